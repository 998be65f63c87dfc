"""The file reader behind ``newsflow ingest`` and ``newsflow up --seed``, on odd files.

Every file yields either article data or an error naming the file (and line or
index) and the problem; one bad file or line never hides the good ones.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from services.ingest.files import FileItem, iter_files, read_file, read_paths
from services.tools import _requests


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _read(path: Path) -> list[FileItem]:
    return list(read_file(path))


def test_txt_first_line_is_the_title_the_rest_the_body(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "\n  Title line  \r\nFirst paragraph.\r\n\r\nSecond.\n\n")
    assert _read(path) == [
        FileItem(str(path), {"title": "Title line", "body": "First paragraph.\r\n\r\nSecond."})
    ]


def test_invalid_utf8_is_an_error_naming_the_byte(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin1.txt", "Café\nBody".encode("latin-1"))
    assert _read(path) == [FileItem(str(path), error="not valid UTF-8 (byte 3)")]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bom.txt", "Title\nBody", [{"title": "Title", "body": "Body"}]),
        ("bom.json", '{"title": "T", "body": "B"}', [{"title": "T", "body": "B"}]),
        (
            "bom.jsonl",
            '{"title": "T1", "body": "B"}\n{"title": "T2", "body": "B"}',
            [{"title": "T1", "body": "B"}, {"title": "T2", "body": "B"}],
        ),
        (
            "bom.html",
            "<title>T</title><p>B</p>",
            [{"title": "T", "html": "<title>T</title><p>B</p>"}],
        ),
    ],
)
def test_utf8_byte_order_mark_is_ignored(
    tmp_path: Path, name: str, content: str, expected: list[dict[str, str]]
) -> None:
    """Notepad and Excel save UTF-8 with a BOM; the JSON in such a file is still JSON."""
    path = _write(tmp_path / name, b"\xef\xbb\xbf" + content.encode())
    items = _read(path)
    assert [i.error for i in items] == [None] * len(expected)
    assert [i.data for i in items] == expected


def test_empty_files(tmp_path: Path) -> None:
    txt = _write(tmp_path / "empty.txt", "")
    json = _write(tmp_path / "empty.json", "")
    jsonl = _write(tmp_path / "empty.jsonl", "\n\n  \n")
    # An empty .txt is sent as is, so the API names what is missing (title, body).
    assert _read(txt) == [FileItem(str(txt), {"title": "", "body": ""})]
    (item,) = _read(json)
    assert item.origin == str(json)
    assert item.error is not None and item.error.startswith("invalid JSON:")
    assert _read(jsonl) == []


def test_txt_with_only_a_title_line_has_an_empty_body(tmp_path: Path) -> None:
    path = _write(tmp_path / "title-only.txt", "Just a headline\n")
    assert _read(path) == [FileItem(str(path), {"title": "Just a headline", "body": ""})]


def test_json_array_items_that_are_not_objects_are_errors_by_index(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mixed.json",
        orjson.dumps([{"title": "A", "body": "a"}, 42, "text", None, [1], {"title": "B"}]),
    )
    assert _read(path) == [
        FileItem(f"{path}[0]", {"title": "A", "body": "a"}),
        FileItem(f"{path}[1]", error="expected a JSON object, got a number"),
        FileItem(f"{path}[2]", error="expected a JSON object, got a string"),
        FileItem(f"{path}[3]", error="expected a JSON object, got null"),
        FileItem(f"{path}[4]", error="expected a JSON object, got an array"),
        FileItem(f"{path}[5]", {"title": "B"}),
    ]


def test_json_scalar_document_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "scalar.json", "true")
    assert _read(path) == [FileItem(str(path), error="expected a JSON object, got a boolean")]


def test_jsonl_broken_line_in_the_middle_keeps_the_others(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "feed.jsonl",
        '{"title": "one", "body": "1"}\n'
        '{"title": "two", "body": \n'
        "\n"
        '["not", "an", "object"]\n'
        '{"title": "four", "body": "4"}\n',
    )
    items = _read(path)
    assert [i.origin for i in items] == [f"{path}:1", f"{path}:2", f"{path}:4", f"{path}:5"]
    assert items[0].data == {"title": "one", "body": "1"}
    assert items[1].data is None
    assert items[1].error is not None and items[1].error.startswith("invalid JSON:")
    assert items[2].error == "expected a JSON object, got an array"
    assert items[3].data == {"title": "four", "body": "4"}


def test_html_title_falls_back_to_h1_then_file_name(tmp_path: Path) -> None:
    titled = _write(
        tmp_path / "titled.html", "<html><head><title>\n Tom &amp; Jerry\n</title></head></html>"
    )
    h1 = _write(tmp_path / "h1.htm", "<body><h1 class=x>Big <em>news</em></h1><p>Text</p></body>")
    bare = _write(tmp_path / "Untitled page.html", "<p>Only a paragraph</p>")
    blank = _write(tmp_path / "blank-title.html", "<title>  </title><p>Text</p>")
    assert _read(titled)[0].data == {
        "title": "Tom & Jerry",
        "html": "<html><head><title>\n Tom &amp; Jerry\n</title></head></html>",
    }
    assert [i.data["title"] for i in _read(h1) if i.data] == ["Big news"]
    assert _read(bare)[0].data == {"title": "Untitled page", "html": "<p>Only a paragraph</p>"}
    assert _read(blank)[0].data == {"title": "blank-title", "html": "<title>  </title><p>Text</p>"}


@pytest.mark.parametrize("name", ["notes.md", "README", "feed.xml", "article.TXT.bak"])
def test_unsupported_extension_named_explicitly_is_an_error(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, "Title\nBody")
    suffix = path.suffix or "(none)"
    assert _read(path) == [
        FileItem(
            str(path),
            error=f"unsupported file type {suffix}; "
            "use one of .htm, .html, .json, .jsonl, .ndjson, .txt",
        )
    ]


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    assert _read(path) == [FileItem(str(path), error="no such file")]


def test_folder_walk_is_recursive_in_name_order_and_skips_other_files(tmp_path: Path) -> None:
    root = tmp_path / "feed"
    for name in ["b.txt", "a.json", "sub/z.jsonl", "sub/deeper/c.html", "A.TXT", "notes.md"]:
        _write(root / name, "{}")
    # Hidden files and folders: .git, editor backups, macOS "._" resource forks.
    _write(root / ".git" / "info.json", "{}")
    _write(root / "._b.txt", b"\x00\x05\x16\x07\xff")
    (root / "empty-dir").mkdir()
    walked = [p.relative_to(root).as_posix() for p in iter_files([root])]
    assert walked == [
        "A.TXT",
        "a.json",
        "b.txt",
        "sub/deeper/c.html",
        "sub/z.jsonl",
    ]
    # Explicit paths keep the order given (hidden ones too), folders expand in place.
    explicit = list(iter_files([root / "._b.txt", root / "sub", root / "a.json"]))
    assert [p.relative_to(root).as_posix() for p in explicit] == [
        "._b.txt",
        "sub/deeper/c.html",
        "sub/z.jsonl",
        "a.json",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "'; DROP TABLE articles; --.txt",
        "Robert'); DROP TABLE students;--.txt",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd.txt",
        "with spaces and  double  spaces .txt",
        "العراق يطلب.txt",
        "שלום.txt",
        "北京新闻.txt",
        "новости.txt",
        "emoji 📰🔥.txt",
        "[bold]markup[red] [link=http:].txt",
        "$(touch pwned) `id` ${HOME}.txt",
        "-rf --api=x.txt",
        "line\nbreak.txt",
        "tab\there%00.txt",
    ],
)
def test_hostile_file_names_are_read_and_reported_verbatim(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, "Headline\nBody.")
    (item,) = list(read_paths([tmp_path]))
    assert item.origin == str(path)
    assert item.data == {"title": "Headline", "body": "Body."}
    assert list(tmp_path.iterdir()) == [path]  # nothing else was created


def test_path_traversal_name_resolves_inside_the_given_folder(tmp_path: Path) -> None:
    """``a/b/../../etc/passwd.txt`` is read where it points: here, inside tmp_path."""
    target = _write(tmp_path / "etc" / "passwd.txt", "Not the system file\nBody.")
    (tmp_path / "a" / "b").mkdir(parents=True)
    tricky = tmp_path / "a" / "b" / ".." / ".." / "etc" / "passwd.txt"
    assert list(read_paths([tricky])) == [
        FileItem(str(tricky), {"title": "Not the system file", "body": "Body."})
    ]
    assert target.resolve() == tricky.resolve()


def test_symlink_loop_in_a_folder_does_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "feed"
    _write(root / "one.txt", "One\nBody")
    (root / "loop").symlink_to(root, target_is_directory=True)
    assert [i.data for i in read_paths([root])] == [{"title": "One", "body": "Body"}]


def test_ingest_requests_stay_under_the_size_cap_and_keep_order() -> None:
    """``newsflow ingest`` never sends a big file in one request with valid articles."""
    items = [("a", b"x" * 10), ("big", b"y" * 100), ("b", b"z" * 10), ("c", b"w" * 10)]
    groups = list(_requests(items, count=3, max_bytes=50))
    assert [[name for name, _ in g] for g in groups] == [["a"], ["big"], ["b", "c"]]
    by_count = list(_requests(items[:1] * 5, count=2, max_bytes=10_000))
    assert [len(g) for g in by_count] == [2, 2, 1]
