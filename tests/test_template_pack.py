"""The `amsterdam` crispy-forms template pack, the error summary and the base templates.

Forms are rendered both ways a page can ask for them (`{{ form|crispy }}` and `{% crispy form %}`)
and read back as an element tree, so the tests check structure (which element holds which, which
id points where) rather than exact markup. None of these tests may touch the database: the 500 page
in particular must render when the database is down.
"""

import re
from html.parser import HTMLParser

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, ButtonHolder, Div, Fieldset, Layout, Submit
from django import forms
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.template import Context, RequestContext, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

# ---------------------------------------------------------------------------------------------
# A small element tree, with parents, to ask "is the error next to its field?"

VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = {name: (value if value is not None else "") for name, value in attrs}
        self.parent = parent
        self.children = []

    @property
    def classes(self):
        return self.attrs.get("class", "").split()

    @property
    def text(self):
        parts = [child if isinstance(child, str) else child.text for child in self.children]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, css_class=None, **attrs):
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and (css_class is None or css_class in node.classes)
            and all(
                node.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items()
            )
        ]

    def find(self, tag=None, css_class=None, **attrs):
        found = self.find_all(tag, css_class, **attrs)
        assert len(found) == 1, (
            f"expected one <{tag or '*'} class={css_class} {attrs}>, found {len(found)}"
        )
        return found[0]

    def by_id(self, element_id):
        return self.find(id=element_id)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, parent=self.current)
        self.current.children.append(node)
        if tag not in VOID_ELEMENTS:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, parent=self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, f"unexpected </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html):
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, f"<{builder.current.tag}> is never closed"
    return builder.root


# ---------------------------------------------------------------------------------------------
# The forms under test

CONTACT_CHOICES = [("email", "E-mail"), ("sms", "Text message")]
SUBSTANCE_CHOICES = [("ghb", "GHB/GBL"), ("meth", "Crystal meth"), ("3mmc", "3-MMC")]


class IntakeForm(forms.Form):
    nickname = forms.CharField(label="Nickname", max_length=40)
    email = forms.EmailField(
        label="E-mail address", required=False, help_text="Only for reminders."
    )
    contact = forms.ChoiceField(
        label="How may we contact you?", choices=CONTACT_CHOICES, widget=forms.RadioSelect
    )
    substances = forms.MultipleChoiceField(
        label="Which substances do you use?",
        required=False,
        choices=SUBSTANCE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label="Anything else?", required=False, widget=forms.Textarea)


class IntakeFormWithLayout(IntakeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = "/intake/"
        self.helper.layout = Layout(
            Fieldset("About you", "nickname", "email"),
            Div("contact", "substances", css_class="intake-questions"),
            HTML('<p class="ams-paragraph intake-intro">{{ intro }}</p>'),
            "note",
            ButtonHolder(Submit("book", "Book")),
        )


class FormWithNonFieldError(IntakeForm):
    def clean(self):
        raise forms.ValidationError("This time is no longer free.", code="slot_taken")


TYPED = {
    "nickname": "",
    "email": "not-an-email",
    "contact": "",
    "substances": ["ghb", "3mmc"],
    "note": "Typed <text> & more",
}


def render_with_filter(form, rf):
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def render_with_tag(form, rf):
    context = RequestContext(rf.get("/intake/"), {"form": form, "intro": "A few questions."})
    return Template("{% load crispy_forms_tags %}{% crispy form %}").render(context)


RENDERINGS = [
    pytest.param(IntakeForm, render_with_filter, id="filter"),
    pytest.param(IntakeFormWithLayout, render_with_tag, id="tag-with-layout"),
]


# ---------------------------------------------------------------------------------------------
# Unbound forms


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_text_fields_are_ads_fields_with_linked_labels(form_class, render, rf):
    page = parse(render(form_class(), rf))

    for name, control_class in [
        ("nickname", "ams-text-input"),
        ("email", "ams-text-input"),
        ("note", "ams-text-area"),
    ]:
        control = page.by_id(f"id_{name}")
        assert control_class in control.classes
        label = page.find("label", **{"for": f"id_{name}"})
        assert "ams-label" in label.classes
        assert label.parent is control.parent
        assert "ams-field" in control.parent.classes
    assert page.by_id("id_email").attrs["type"] == "email"
    assert page.by_id("id_note").tag == "textarea"


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_optional_fields_say_so_and_required_fields_do_not(form_class, render, rf):
    page = parse(render(form_class(), rf))

    assert page.find("label", **{"for": "id_nickname"}).find_all(css_class="ams-hint") == []
    assert (
        page.find("label", **{"for": "id_email"}).find(css_class="ams-hint").text
        == "(niet verplicht)"
    )
    assert (
        page.find("label", **{"for": "id_note"}).find(css_class="ams-hint").text
        == "(niet verplicht)"
    )
    assert page.by_id("id_contact").find("legend").find_all(css_class="ams-hint") == []
    assert (
        page.by_id("id_substances").find("legend").find(css_class="ams-hint").text
        == "(niet verplicht)"
    )
    assert "*" not in page.text


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_help_text_is_a_hint_the_input_points_to(form_class, render, rf):
    page = parse(render(form_class(), rf))

    hint = page.by_id("id_email_helptext")
    assert "ams-hint" in hint.classes
    assert hint.text == "Only for reminders."
    assert page.by_id("id_email").attrs["aria-describedby"] == "id_email_helptext"
    assert hint.parent is page.by_id("id_email").parent


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_choice_fields_are_field_sets_with_a_legend(form_class, render, rf):
    page = parse(render(form_class(), rf))

    for name, kind, choices in [
        ("contact", "radio", CONTACT_CHOICES),
        ("substances", "checkbox", SUBSTANCE_CHOICES),
    ]:
        field_set = page.by_id(f"id_{name}")
        assert field_set.tag == "fieldset"
        assert "ams-field-set" in field_set.classes
        assert field_set.children and field_set.find("legend", css_class="ams-field-set__legend")
        inputs = field_set.find_all("input")
        assert [control.attrs["value"] for control in inputs] == [value for value, _ in choices]
        for index, (control, (_, label_text)) in enumerate(zip(inputs, choices, strict=True)):
            assert control.attrs["type"] == kind
            assert control.attrs["name"] == name
            assert control.attrs["id"] == f"id_{name}_{index}"
            assert f"ams-{kind}__input" in control.classes
            label = field_set.find("label", **{"for": control.attrs["id"]})
            assert f"ams-{kind}__label" in label.classes
            assert label.text == label_text
            assert f"ams-{kind}" in control.parent.classes


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_unbound_form_shows_no_errors(form_class, render, rf):
    html = render(form_class(), rf)
    page = parse(html)

    assert page.find_all(css_class="ams-invalid-form-alert") == []
    assert page.find_all(css_class="ams-error-message") == []
    assert "aria-invalid" not in html


# ---------------------------------------------------------------------------------------------
# Bound forms with errors


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_error_message_sits_next_to_its_field_and_the_input_points_to_it(form_class, render, rf):
    form = form_class(data=TYPED)
    assert not form.is_valid()
    page = parse(render(form, rf))

    for name in ["nickname", "email"]:
        control = page.by_id(f"id_{name}")
        error = page.by_id(f"id_{name}_error")
        assert "ams-error-message" in error.classes
        assert error.parent is control.parent
        assert "ams-field--invalid" in control.parent.classes
        assert control.attrs["aria-invalid"] == "true"
        assert f"id_{name}_error" in control.attrs["aria-describedby"].split()
    assert page.by_id("id_email").attrs["aria-describedby"].split() == [
        "id_email_helptext",
        "id_email_error",
    ]
    assert page.by_id("id_nickname_error").text.endswith(str(form.errors["nickname"][0]))
    # Fields without errors stay as they were.
    assert "aria-invalid" not in page.by_id("id_note").attrs
    assert page.find_all(id="id_note_error") == []


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_error_in_a_choice_field_is_announced_by_its_field_set(form_class, render, rf):
    form = form_class(data=TYPED)
    form.is_valid()
    page = parse(render(form, rf))

    field_set = page.by_id("id_contact")
    error = page.by_id("id_contact_error")
    assert error.parent is field_set
    assert "ams-field-set--invalid" in field_set.classes
    assert field_set.attrs["aria-describedby"] == "id_contact_error"
    for control in field_set.find_all("input"):
        assert control.attrs["aria-invalid"] == "true"


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_error_summary_comes_first_and_links_to_each_field(form_class, render, rf):
    form = form_class(data=TYPED)
    form.is_valid()
    page = parse(render(form, rf))

    summary = page.find(css_class="ams-invalid-form-alert")
    assert summary.tag == "section"
    assert {"ams-alert", "ams-alert--error"} <= set(summary.classes)
    assert summary.attrs["tabindex"] == "-1"
    assert "autofocus" in summary.attrs
    assert summary.find("h2").text == "Er is iets niet goed"
    links = summary.find_all("a")
    assert [link.attrs["href"] for link in links] == ["#id_nickname", "#id_email", "#id_contact"]
    for link in links:
        page.by_id(link.attrs["href"][1:])  # every link has a target
        assert "ams-link-list__link" in link.classes
    assert links[1].text == f"E-mail address – {form.errors['email'][0]}"
    # The summary is above every field.
    elements = list(page.iter())
    assert elements.index(summary) < elements.index(page.by_id("id_nickname"))


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_non_field_errors_are_in_the_summary(form_class, render, rf):
    class Form(FormWithNonFieldError, form_class):
        pass

    form = Form(data={"nickname": "Sam", "contact": "sms"})
    assert not form.is_valid()
    page = parse(render(form, rf))

    summary = page.find(css_class="ams-invalid-form-alert")
    assert "This time is no longer free." in summary.text
    assert summary.find_all("a") == []


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_typed_values_are_kept_when_the_form_comes_back(form_class, render, rf):
    form = form_class(data=TYPED)
    form.is_valid()
    html = render(form, rf)
    page = parse(html)

    assert page.by_id("id_email").attrs["value"] == "not-an-email"
    assert page.by_id("id_note").text == "Typed <text> & more"
    assert "Typed &lt;text&gt; &amp; more" in html
    checked = [
        control.attrs["value"]
        for control in page.by_id("id_substances").find_all("input")
        if "checked" in control.attrs
    ]
    assert checked == ["ghb", "3mmc"]


# ---------------------------------------------------------------------------------------------
# {% crispy %} specifics


def test_crispy_tag_renders_the_form_element_with_layout_objects(rf):
    page = parse(render_with_tag(IntakeFormWithLayout(), rf))

    form = page.find("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/intake/"
    assert "novalidate" in form.attrs
    assert form.find("input", type="hidden", name="csrfmiddlewaretoken")

    legend = page.find_all("legend")[0]
    assert legend.text == "About you"
    assert "ams-field-set__legend" in legend.classes
    about_you = legend.parent
    assert about_you.by_id("id_nickname") and about_you.by_id("id_email")

    questions = page.find("div", css_class="intake-questions")
    assert questions.by_id("id_contact") and questions.by_id("id_substances")

    assert page.find("p", css_class="intake-intro").text == "A few questions."

    button = page.find("button", name="book")
    assert button.attrs["type"] == "submit"
    assert {"ams-button", "ams-button--primary"} <= set(button.classes)
    assert not any(css_class.startswith("btn") for css_class in button.classes)
    assert button.text == "Book"
    assert "ams-action-group" in button.parent.classes


def test_crispy_tag_without_layout_renders_helper_inputs(rf):
    form = IntakeForm()
    form.helper = FormHelper()
    form.helper.add_input(Submit("next", "Next"))
    page = parse(render_with_tag(form, rf))

    assert page.find("form").by_id("id_nickname")
    button = page.find("button", name="next")
    assert "ams-button--primary" in button.classes


@pytest.mark.parametrize(("form_class", "render"), RENDERINGS)
def test_forms_carry_no_inline_style_or_script(form_class, render, rf):
    form = form_class(data=TYPED)
    form.is_valid()
    html = render(form, rf)

    assert "style=" not in html
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


# ---------------------------------------------------------------------------------------------
# base.html and the error pages


def render_page(template_name, rf, path="/", context=None):
    return render_to_string(template_name, context, request=rf.get(path))


def assert_nothing_from_other_hosts(html):
    assert not re.search(r"https?://", html), "a page may not name any other host"
    for url in re.findall(r'(?:href|src|action)="([^"]*)"', html):
        assert url.startswith(("/", "#", "tel:")) and not url.startswith("//"), url


def test_base_page_has_skip_link_main_and_language_attribute(rf):
    with translation.override("nl"):
        page = parse(render_page("base.html", rf))

    assert page.find("html").attrs["lang"] == "nl"
    skip_link = page.find("a", css_class="ams-skip-link")
    assert skip_link.attrs["href"] == "#main"
    assert next(page.iter()).tag == "html"
    body_elements = list(page.find("body").iter())
    assert body_elements.index(skip_link) < body_elements.index(page.find("header"))
    assert page.by_id("main").tag == "main"
    assert page.find("title").text.endswith("– GGD Amsterdam")
    assert "ams-page-header" in page.find("header").classes
    logo_link = page.find("a", css_class="ams-page-header__logo-link")
    assert logo_link.find("span", css_class="ams-page-header__brand-name").text == "Afspraak GGD"
    assert logo_link.find("img").attrs["alt"] == "GGD Amsterdam"
    assert "ams-page-footer" in page.find("footer").classes
    assert page.find("meta", name="viewport")


@pytest.mark.parametrize(
    ("active", "offered", "offered_name"),
    [("nl", "en", "English"), ("en", "nl", "Nederlands")],
)
def test_language_switch_is_a_post_form_that_offers_the_other_language(
    active, offered, offered_name, rf
):
    with translation.override(active):
        page = parse(render_page("base.html", rf, path="/afspraak/?week=2"))

    assert page.find("html").attrs["lang"] == active
    form = page.find("form", action=reverse("set_language"))
    assert form.attrs["method"] == "post"
    assert form.find("input", name="csrfmiddlewaretoken")
    assert form.find("input", name="next").attrs["value"] == "/afspraak/?week=2"
    assert form.find("input", name="language").attrs["value"] == offered
    button = form.find("button")
    assert button.attrs["type"] == "submit"
    assert button.find("span", lang=offered).text == offered_name


def test_base_page_names_no_other_host_and_is_csp_safe(rf):
    html = render_page("base.html", rf)

    assert_nothing_from_other_hosts(html)
    assert "style=" not in html
    assert "<script" not in html
    page = parse(html)
    stylesheets = [link.attrs["href"] for link in page.find_all("link", rel="stylesheet")]
    assert stylesheets == [
        "/static/ams/assets/font/index.css",
        "/static/ams/tokens/index.css",
        "/static/ams/css/index.css",
        "/static/css/spreekuur.css",
    ]


def test_footer_offers_crisis_help_as_phone_links(rf):
    page = parse(render_page("base.html", rf))

    phone_links = [
        link.attrs["href"]
        for link in page.find("footer").find_all("a")
        if link.attrs["href"].startswith("tel:")
    ]
    assert phone_links == ["tel:113", "tel:08000113", "tel:112"]


def test_messages_are_shown_as_ads_alerts(rf):
    request = rf.get("/")
    request._messages = CookieStorage(request)
    messages.success(request, "Your appointment is cancelled.")
    messages.error(request, "That time is no longer free.")
    page = parse(render_to_string("base.html", request=request))

    alerts = page.by_id("main").find_all("section", css_class="ams-alert")
    assert [alert.text for alert in alerts] == [
        "Your appointment is cancelled.",
        "That time is no longer free.",
    ]
    assert "ams-alert--success" in alerts[0].classes
    assert "ams-alert--error" in alerts[1].classes


@pytest.mark.parametrize("template_name", ["errors/404.html", "errors/csrf.html"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_error_pages_extend_the_base_page(template_name, language, rf):
    with translation.override(language):
        html = render_page(template_name, rf)
    page = parse(html)

    assert page.find("html").attrs["lang"] == language
    assert page.by_id("main").find("h1", css_class="ams-heading")
    assert page.find("a", css_class="ams-skip-link")
    assert_nothing_from_other_hosts(html)


def test_server_error_page_stands_alone(settings):
    """Django renders 500.html with an empty context and no request: it must need neither."""
    settings.DEBUG = False
    with translation.override("nl"):
        html = render_to_string("errors/500.html")
    page = parse(html)

    assert page.find("html").attrs["lang"] == "nl"
    assert page.find("h1").text == "Er ging iets mis"
    assert "/static/ams/css/index.css" in [
        link.attrs["href"] for link in page.find_all("link", rel="stylesheet")
    ]
    assert [
        link.attrs["href"] for link in page.find_all("a") if link.attrs["href"].startswith("tel:")
    ] == [
        "tel:113",
        "tel:08000113",
        "tel:112",
    ]
    assert page.find_all("form") == []
    assert_nothing_from_other_hosts(html)
    assert "style=" not in html
