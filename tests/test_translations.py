"""The English catalog: complete, not fuzzy, placeholders intact, up to date, compiled, used.

Dutch is the source language (the msgids); English lives in locale/en/LC_MESSAGES/django.po.
After adding or changing a translatable string:

    .venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=node_modules \
        --ignore=staticfiles --ignore=var --no-obsolete
    # fill in the new msgstr entries, then
    .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules

The .po file is read with a small parser here, so the tests need no extra package.
"""

import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PO_PATH = BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
TEMPLATE_DIRS = [BASE_DIR / "templates", BASE_DIR / "appointments" / "templates"]

HOW_TO_FIX = "run makemessages -l en (see this module's docstring), translate, compilemessages"


# --- A small .po parser -------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    # None for a singular msgstr, 0, 1, … for msgstr[n].
    msgstr: dict[int | None, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD_RE = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a quoted string: {text}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], "\\" + m[1]), text[1:-1])


def parse_po(path: Path) -> tuple[Entry | None, list[Entry]]:
    """Return the header entry and the other entries; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple | None = None  # which string a continuation line extends

    def finish():
        nonlocal entry, target
        if entry is not None and (entry.msgid or entry.msgstr):
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            # A comment after strings starts a new entry (when no blank line separates them).
            if entry is not None and target is not None:
                finish()
            if entry is None:
                entry = Entry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        match = _KEYWORD_RE.match(line)
        if match:
            keyword, index, value = match.groups()
            if keyword in ("msgid", "msgctxt") and entry is not None and entry.msgstr:
                finish()
            if entry is None:
                entry = Entry(line=number)
            if not entry.line or (keyword == "msgid" and not entry.msgid):
                entry.line = number
            text = _unquote(value)
            if keyword == "msgctxt":
                entry.msgctxt, target = text, ("msgctxt",)
            elif keyword == "msgid":
                entry.msgid, target = text, ("msgid",)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = text, ("msgid_plural",)
            else:
                key = int(index) if index is not None else None
                entry.msgstr[key], target = text, ("msgstr", key)
            continue
        if line.startswith('"') and entry is not None and target is not None:
            text = _unquote(line)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += text
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + text)
            continue
        raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    finish()

    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    return header, [e for e in entries if e is not header]


@pytest.fixture(scope="module")
def catalog() -> tuple[Entry | None, list[Entry]]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: {HOW_TO_FIX}"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def entries(catalog) -> list[Entry]:
    return catalog[1]


def _pairs(entry: Entry) -> list[tuple[str, str]]:
    """(source, translation) pairs: msgstr[0] goes with msgid, the other forms with the plural."""
    if entry.msgid_plural is None:
        return [(entry.msgid, entry.msgstr.get(None, ""))]
    return [
        (entry.msgid if index == 0 else entry.msgid_plural, text)
        for index, text in sorted(entry.msgstr.items(), key=lambda item: item[0] or 0)
    ]


# --- The catalog itself -------------------------------------------------------------------


def test_the_parser_reads_multiline_plural_and_flagged_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        "#: a.py:1\n#, fuzzy, python-format\n"
        'msgid ""\n"Hoi %(name)s,\\n"\n"welkom"\nmsgstr "Hi %(name)s,\\nwelcome"\n\n'
        'msgctxt "zitplaats"\nmsgid "%(count)d plaats"\nmsgid_plural "%(count)d plaatsen"\n'
        'msgstr[0] "%(count)d seat"\nmsgstr[1] ""\n"%(count)d seats"\n\n'
        '#~ msgid "weg"\n#~ msgstr "gone"\n',
        encoding="utf-8",
    )

    header, parsed = parse_po(po)

    assert header is not None and "Language: en" in header.msgstr[None]
    assert [e.msgid for e in parsed] == ["Hoi %(name)s,\nwelkom", "%(count)d plaats"]
    assert parsed[0].flags == {"fuzzy", "python-format"}
    assert parsed[0].msgstr == {None: "Hi %(name)s,\nwelcome"}
    assert parsed[1].msgctxt == "zitplaats"
    assert parsed[1].msgid_plural == "%(count)d plaatsen"
    assert parsed[1].msgstr == {0: "%(count)d seat", 1: "%(count)d seats"}


def test_the_catalog_is_english(catalog):
    header, entries = catalog
    assert header is not None, "the .po file has no header entry"
    assert re.search(r"^Language: en$", header.msgstr[None], flags=re.M)
    assert "fuzzy" not in header.flags, "remove '#, fuzzy' from the header"
    assert len(entries) > 100


def test_every_entry_is_translated(entries):
    untranslated = [
        entry.label
        for entry in entries
        if not entry.msgstr
        or any(not text.strip() for text in entry.msgstr.values())
        or (entry.msgid_plural is not None and len(entry.msgstr) < 2)
    ]
    assert not untranslated, f"untranslated entries ({HOW_TO_FIX}):\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(entries):
    fuzzy = [entry.label for entry in entries if "fuzzy" in entry.flags]
    assert not fuzzy, (
        "fuzzy entries are not used at run time; check the translation and remove "
        "'#, fuzzy':\n" + "\n".join(fuzzy)
    )


_PERCENT_RE = re.compile(r"%%|%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
_NAMED_RE = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACE_RE = re.compile(r"\{[^{}\s]*\}")


def _placeholders(text: str, flags: set[str]) -> Counter:
    if "python-format" in flags:
        found = [m[0] for m in _PERCENT_RE.finditer(text) if m[0] != "%%"]
    else:
        # Without the flag a lone "%" is just text ("100%"); named placeholders still count.
        found = _NAMED_RE.findall(text)
    if "python-brace-format" in flags:
        found += _BRACE_RE.findall(text)
    return Counter(found)


def test_placeholders_are_kept(entries):
    broken = []
    for entry in entries:
        for source, translation in _pairs(entry):
            want, got = _placeholders(source, entry.flags), _placeholders(translation, entry.flags)
            if translation and want != got:
                broken.append(
                    f"{entry.label}: {sorted(want.elements())} → {sorted(got.elements())}"
                )
    assert not broken, "placeholders differ between msgid and msgstr:\n" + "\n".join(broken)


_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]*>")


def test_html_in_translations_matches_the_source(entries):
    """Links (tel:113, tel:112 …) and markup must survive translation unchanged."""
    broken = []
    for entry in entries:
        for source, translation in _pairs(entry):
            if translation and Counter(_TAG_RE.findall(source)) != Counter(
                _TAG_RE.findall(translation)
            ):
                broken.append(entry.label)
    assert not broken, "HTML differs between msgid and msgstr:\n" + "\n".join(broken)


def test_newlines_at_the_ends_match(entries):
    broken = [
        entry.label
        for entry in entries
        for source, translation in _pairs(entry)
        if translation
        and (
            source.startswith("\n") != translation.startswith("\n")
            or source.endswith("\n") != translation.endswith("\n")
        )
    ]
    assert not broken, "msgfmt rejects these:\n" + "\n".join(broken)


# --- The catalog against the templates ----------------------------------------------------

_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_INLINE_RE = re.compile(
    r"\{%\s*trans(?:late)?\s+(?P<text>" + _QUOTED + r")(?P<options>(?:\s+[^%]*?)?)\s*%\}"
)
_BLOCK_RE = re.compile(
    r"\{%\s*blocktrans(?:late)?(?P<options>\s[^%]*?)?\s*%\}(?P<body>.*?)"
    r"\{%\s*endblocktrans(?:late)?\s*%\}",
    flags=re.S,
)
_CONTEXT_RE = re.compile(r"\bcontext\s+(" + _QUOTED + r")")
_COMMENTS_RE = re.compile(r"\{%\s*comment\b.*?%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}", flags=re.S)
_VAR_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _literal(quoted: str) -> str:
    return quoted[1:-1]


def _template_strings() -> list[tuple[str, str | None, str]]:
    """(where, msgctxt, msgid) for every translate tag with a literal string, and for every
    blocktranslate block without {% plural %}, as makemessages extracts them."""
    found = []
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.rglob("*.html")) + sorted(directory.rglob("*.txt")):
            source = _COMMENTS_RE.sub("", path.read_text(encoding="utf-8"))
            where = str(path.relative_to(BASE_DIR))
            for match in _INLINE_RE.finditer(source):
                options = match["options"] or ""
                context = _CONTEXT_RE.search(options)
                msgid = _literal(match["text"]).replace("%", "%%")
                found.append((where, _literal(context[1]) if context else None, msgid))
            for match in _BLOCK_RE.finditer(source):
                options, body = match["options"] or "", match["body"]
                if re.search(r"\{%\s*plural\s*%\}", body) or "{%" in body:
                    continue
                context = _CONTEXT_RE.search(options)
                msgid = _VAR_RE.sub(
                    lambda m: "%(" + m[1] + ")s", body.replace("%", "%%")
                )  # text % doubles, {{ var }} becomes %(var)s
                if re.search(r"\btrimmed\b", options):
                    msgid = re.sub(r"\s*\n\s*", " ", msgid.strip())
                found.append((where, _literal(context[1]) if context else None, msgid))
    return found


def test_the_template_scan_finds_strings():
    strings = {msgid for _, _, msgid in _template_strings()}
    assert "Naar de inhoud" in strings  # base.html, {% translate %}
    assert "Week van maandag %(start)s" in strings  # a blocktranslate with a variable


def test_every_template_string_is_in_the_catalog(entries):
    known = {(entry.msgctxt, entry.msgid) for entry in entries}
    missing = sorted(
        {
            f"{where}: {msgid!r}"
            for where, context, msgid in _template_strings()
            if (context, msgid) not in known
        }
    )
    assert not missing, f"template strings missing from the catalog ({HOW_TO_FIX}):\n" + "\n".join(
        missing
    )


# --- The compiled catalog and the pages ---------------------------------------------------


def test_the_compiled_catalog_matches_the_po_file(entries):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages (make install does)"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                got = compiled.gettext(entry.msgid)
            else:
                got = compiled.pgettext(entry.msgctxt, entry.msgid)
            want = entry.msgstr.get(None)
            if got != want:
                stale.append(entry.label)
        else:
            for count, index in ((1, 0), (2, 1)):
                if entry.msgctxt is None:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, count)
                else:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                if got != entry.msgstr.get(index):
                    stale.append(f"{entry.label} (n={count})")
    assert not stale, "the .mo file does not match the .po file: run compilemessages\n" + "\n".join(
        stale[:20]
    )


@pytest.mark.django_db
def test_the_home_page_is_in_english_for_an_english_browser(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "What you tell us stays with us" in html
    assert "You can book an appointment here yourself." in html
    assert "Wat je aan ons vertelt, blijft bij ons" not in html


@pytest.mark.django_db
def test_the_home_page_stays_dutch_by_default(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="nl")

    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Wat je aan ons vertelt, blijft bij ons" in html
