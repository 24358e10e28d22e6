"""Body Markdown → HTML: the conventions the README documents."""

from publisher.source.markup import plain_paragraphs, to_html


def test_headings_points_and_leads():
    html = to_html(
        "## 一、总体要求\n\n### （一）完善制度\n\n**1. 全面二孩放开**\n\n**一是**加强领导。\n"
    )
    assert html.splitlines() == [
        "<h2>一、总体要求</h2>",
        "<h3>（一）完善制度</h3>",
        '<p class="point"><strong>1. 全面二孩放开</strong></p>',
        '<p class="lead"><strong>一是</strong>加强领导。</p>',
    ]


def test_bold_lead_closes_after_chinese_punctuation():
    # CommonMark alone leaves these asterisks literal: punctuation then a Han character.
    html = to_html(
        "**（一）关于社区“联合党委”运行机制。**吴忠市……\n\n正文*甲*乙，2*3*4 与 5 * 6。\n"
    )
    assert html.splitlines() == [
        '<p class="lead"><strong>（一）关于社区“联合党委”运行机制。</strong>吴忠市……</p>',
        "<p>正文<em>甲</em>乙，2<em>3</em>4 与 5 * 6。</p>",
    ]


def test_excerpt_box_and_figure():
    html = to_html(
        "::: excerpt\n真正的友谊是不喧嚣的。\n\n——周国平《爱与孤独》\n:::\n\n![现场](a.jpg)\n",
        resolve_src=lambda src: "images/" + src,
    )
    assert html.splitlines() == [
        '<aside class="excerpt"><p class="excerpt-label">微书摘</p>',
        "<p>真正的友谊是不喧嚣的。</p>",
        '<p class="attribution">——周国平《爱与孤独》</p>',
        "</aside>",
        '<figure><img src="images/a.jpg" alt="现场"/><figcaption>现场</figcaption></figure>',
    ]


def test_raw_html_from_a_manuscript_is_escaped():
    html = to_html('<script>alert(1)</script>\n\n正文<img src=x onerror="y">\n')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_plain_paragraphs_drop_markup():
    assert plain_paragraphs("## 一、标题\n\n**一是**加强*领导*。\n") == [
        "一、标题",
        "一是加强领导。",
    ]
