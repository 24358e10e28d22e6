"""The layout folders' loader: a template is loaded again when what its name finds changes."""

from publisher.templates import environment, render


def test_an_override_made_after_the_first_render_is_found(tmp_path):
    issue, project = tmp_path / "issue-layouts", tmp_path / "project-layouts"
    issue.mkdir()
    project.mkdir()
    (project / "page.html.j2").write_text("project's", encoding="utf-8")
    env = environment((issue, project))
    assert render(env, "page.html.j2") == "project's"
    (issue / "page.html.j2").write_text("issue's", encoding="utf-8")
    assert render(env, "page.html.j2") == "issue's"
    (issue / "page.html.j2").unlink()
    assert render(env, "page.html.j2") == "project's"


def test_relative_folders_are_found_from_the_current_folder(tmp_path, monkeypatch):
    env = environment((tmp_path.joinpath("layouts").relative_to(tmp_path),))
    for place in ("first", "second"):
        (tmp_path / place / "layouts").mkdir(parents=True)
        (tmp_path / place / "layouts" / "page.html.j2").write_text(place, encoding="utf-8")
        monkeypatch.chdir(tmp_path / place)
        assert render(env, "page.html.j2") == place
