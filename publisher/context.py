"""One build's inputs, resolved once: the issue, its font roles, its layout folders and its
keywords. The loader makes it; the print and EPUB renderers (and the desk's commands) read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from publisher import fonts, templates
from publisher.source.model import Article, Issue


@dataclass(frozen=True, eq=False)
class BuildContext:
    issue: Issue
    roles: dict[str, fonts.Role]
    # Folders searched for templates and stylesheets, the issue's own `layouts/` first.
    layout_folders: tuple[Path, ...]
    # The articles' digest as the build found them (`build.texts_digest`): its PDF records it.
    texts: str
    _article_keywords: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def article_keywords(self, article: Article) -> tuple[str, ...]:
        """The article's keywords (its front matter's, else jieba's), computed once."""
        from publisher.keywords import article_keywords

        if article.order not in self._article_keywords:
            self._article_keywords[article.order] = article_keywords(article)
        return self._article_keywords[article.order]

    @cached_property
    def keywords(self) -> tuple[str, ...]:
        """The issue's keywords, from its articles'."""
        from publisher.keywords import issue_keywords

        return issue_keywords([self.article_keywords(a) for a in self.issue.articles])

    @cached_property
    def readable(self) -> tuple[Path, ...]:
        """What a build may read: the issue folder, the layout folders, the project's fonts
        folder and the font files that fonts.yaml names."""
        font_files = [file for role in self.roles.values() for _, file in role.files]
        return tuple(p.resolve() for p in (self.issue.root, *self.layout_folders,
                                           templates.shipped("fonts"), *font_files))


def resolve(issue: Issue) -> BuildContext:
    """The context of a build of `issue` (an Issue that loaded cleanly, fonts.yaml included)."""
    from publisher.build import texts_digest

    return BuildContext(issue=issue, roles=fonts.load_roles(issue.root),
                        layout_folders=templates.search_path(issue.root),
                        texts=texts_digest(issue))
