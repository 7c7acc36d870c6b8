"""The `rag` command: JSON shapes, human output, exit codes and error messages."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder

from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL
from rag.store import IndexLayout

# The CLI would load the configured encoder; here it gets a fake under the default's name.
GIVEN = Runtime(embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(
        tmp_path / "corpus.jsonl",
        [{"id": f"s{i}", "title": f"Title {i}", "text": synthetic_text(i)} for i in range(20)],
    )


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj=GIVEN)
    return result.exit_code, result.stdout, result.stderr


def test_index_add_json(tmp_path: Path, corpus: Path) -> None:
    code, out, _ = run("index", "add", str(corpus), "--index", str(tmp_path / "ix"), "--json")
    assert code == 0
    data = json.loads(out)
    assert {"version", "sources", "passages"} <= set(data)
    assert set(data["sources"]) >= {"added", "changed", "removed", "unchanged", "failed"}
    assert set(data["passages"]) >= {"embedded", "deleted", "total"}
    assert (data["version"], data["sources"]["added"], data["sources"]["failed"]) == (1, 20, [])


def test_partial_failure_exits_3_and_lists_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Good title\nSome good text here.")
    (folder / "bad.txt").write_bytes(b"\x00\x01\x02\x03")
    code, out, _ = run("index", "add", str(folder), "--index", str(tmp_path / "ix"), "--json")
    assert code == 3
    [failure] = json.loads(out)["sources"]["failed"]
    assert failure["path"].endswith("bad.txt") and "binary" in failure["reason"]
    code, _, err = run("index", "rebuild", "--index", str(tmp_path / "ix"))
    assert code == 3 and "skipped" in err and "bad.txt" in err


def test_search_json_hits(tmp_path: Path, corpus: Path) -> None:
    ix = str(tmp_path / "ix")
    run("index", "add", str(corpus), "--index", ix)
    code, out, _ = run("search", "Item3 sentence", "--index", ix, "-k", "4", "--json")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 4 and [h["rank"] for h in hits] == [1, 2, 3, 4]
    assert {"rank", "score", "source_id", "passage_id", "title", "text"} <= set(hits[0])
    assert hits[0]["retriever"] == "fused"
    for mode in ("dense", "bm25"):
        code, out, _ = run("search", "Item3", "--index", ix, "--mode", mode, "--json")
        assert code == 0 and json.loads(out)[0]["retriever"] == mode


def test_search_human_output(tmp_path: Path, corpus: Path) -> None:
    ix = str(tmp_path / "ix")
    run("index", "add", str(corpus), "--index", ix)
    code, out, _ = run("search", "Item3 sentence", "--index", ix, "-k", "2")
    assert code == 0 and out.startswith("1. Title") and "\n2. " in out


def test_status_rebuild_remove(tmp_path: Path, corpus: Path) -> None:
    ix = str(tmp_path / "ix")
    run("index", "add", str(corpus), "--index", ix)
    code, out, _ = run("index", "info", "--index", ix, "--json")
    status = json.loads(out)
    assert code == 0 and status["version"] == 1
    assert status["manifest"]["embedding"]["model_id"] == DEFAULT_EMBED_MODEL
    assert status["manifest"]["locations"] == [str(corpus)]
    code, out, _ = run("index", "info", "--index", ix)
    assert code == 0 and "passages" in out and str(corpus) in out
    code, out, _ = run("index", "remove", "s4", "--index", ix, "--json")
    assert code == 0 and json.loads(out)["sources"]["removed"] == 1
    code, out, _ = run("index", "rebuild", "--full", "--index", ix, "--json")
    data = json.loads(out)
    assert code == 0 and data["full"] and data["sources"]["unchanged"] == 19
    code, out, _ = run("index", "rebuild", "--index", ix)
    assert code == 0 and "index version 3" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("search", "anything"), 1, "no index at"),
        (("index", "info"), 1, "no index at"),
        (("index", "add", "/nonexistent/path"), 1, "does not exist"),
        (("index", "remove", "ghost"), 1, "no index at"),
        (("search", "x", "--mode", "magic"), 2, "Invalid value for '--mode'"),
        (("search", "x", "-k", "0"), 2, "Invalid value for '-k'"),
        (("index", "add"), 2, "Missing argument"),
    ],
)
def test_errors_are_messages_with_exit_codes(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    got, out, err = run(*args, "--index", str(tmp_path / "ix"))
    assert got == code
    assert message in err
    assert "Traceback" not in out + err


def test_os_errors_are_messages(tmp_path: Path, corpus: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run("index", "add", str(corpus), "--index", str(blocker / "ix"))
    assert code == 1 and "Error:" in err and "Traceback" not in err


def test_json_errors_are_json(tmp_path: Path) -> None:
    code, out, _ = run("search", "x", "--index", str(tmp_path / "ix"), "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "no_index"


def test_busy_index_exits_4(tmp_path: Path, corpus: Path) -> None:
    ix = tmp_path / "ix"
    with IndexLayout(ix).write_lock():
        code, _, err = run("index", "add", str(corpus), "--index", str(ix))
    assert code == 4 and "another process is building" in err


def test_a_file_of_a_registered_folder_added_again_is_one_file(tmp_path: Path) -> None:
    """Adding a file whose folder is registered reads it once (it was a UNIQUE constraint
    traceback), and is how a removed file of that folder comes back."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.md").write_text(f"Title {n}\n{synthetic_text(n)}", encoding="utf-8")
    ix = str(tmp_path / "ix")
    assert run("index", "add", str(folder), "--index", ix)[0] == 0
    code, out, err = run("index", "add", str(folder / "1.md"), "--index", ix, "--json")
    assert code == 0 and "Traceback" not in err, err
    assert json.loads(out)["passages"]["total"] == 3
    code, out, _ = run("index", "remove", str(folder / "1.md"), "--index", ix, "--json")
    assert code == 0 and json.loads(out)["sources"]["removed"] == 1
    code, out, _ = run("index", "add", str(folder / "1.md"), "--index", ix, "--json")
    assert code == 0 and json.loads(out)["sources"]["added"] == 1
    code, out, _ = run("search", "Item1 sentence", "-k", "1", "--index", ix, "--json")
    assert json.loads(out)[0]["source_id"] == "1.md"


def _version(ix: Path) -> Path:
    return ix / "versions" / (ix / "CURRENT").read_text().strip()


def _rewrite_manifest(ix: Path, change: Callable[[dict[str, object]], object]) -> None:
    path = _version(ix) / "manifest.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


# (broken state, how it is broken): each leaves `rag search` refusing the index.
BROKEN: list[tuple[str, Callable[[Path], object]]] = [
    ("manifest not JSON", lambda ix: (_version(ix) / "manifest.json").write_text("{not json")),
    ("manifest gone", lambda ix: (_version(ix) / "manifest.json").unlink()),
    ("manifest a list", lambda ix: _rewrite_manifest(ix, lambda m: list(m))),
    (
        "manifest of another format",
        lambda ix: _rewrite_manifest(ix, lambda m: m | {"format_version": 99}),
    ),
    (
        "manifest missing a field",
        lambda ix: _rewrite_manifest(ix, lambda m: m | {"embedding": None}),
    ),
    ("FAISS file garbled", lambda ix: (_version(ix) / "vectors.faiss").write_bytes(b"garbage")),
    ("BM25 gone", lambda ix: shutil.rmtree(_version(ix) / "bm25")),
    ("SQLite garbled", lambda ix: (_version(ix) / "meta.sqlite").write_bytes(b"not a database")),
]


@pytest.mark.parametrize("break_it", [b for _, b in BROKEN], ids=[n for n, _ in BROKEN])
def test_the_advice_of_every_error_works_in_that_state(
    tmp_path: Path, corpus: Path, break_it: Callable[[Path], object]
) -> None:
    """Each error names a command; run it, and then what its own error names, until search works
    again: no advice sends the user back to a command already tried."""
    ix = tmp_path / "ix"
    assert run("index", "add", str(corpus), "--index", str(ix))[0] == 0
    break_it(ix)
    search = "search Item3"
    command, tried = search, list[str]()
    while True:
        code, _, err = run(*command.split(), "--index", str(ix))
        if code == 0:
            if command == search:
                break
            command = search
            continue
        advice = re.search(r"`rag (index [^`]+)`", err)
        assert advice, err
        command = advice.group(1)
        assert command not in tried, f"{command!r} again after {tried}: {err}"
        tried.append(command)
        assert len(tried) <= 3, tried
        if "PATH" in command:  # start again: the folder aside, the locations added again
            shutil.move(str(ix), str(tmp_path / "ix.broken"))
            command = command.replace("PATH ...", str(corpus))


def test_only_index_add_makes_an_index_and_a_failed_one_leaves_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "idnex"
    code, _, err = run("index", "rebuild", "--index", str(typo))
    assert code == 1 and "no index at" in err and not typo.exists()
    code, _, err = run("index", "add", str(tmp_path / "missing"), "--index", str(typo))
    assert code == 1 and "does not exist" in err and not typo.exists()


def test_an_empty_index_says_so_when_searched(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    ix = str(tmp_path / "ix")
    assert run("index", "add", str(tmp_path / "empty"), "--index", ix)[0] == 0
    code, out, _ = run("search", "anything", "--index", ix)
    assert code == 0 and "holds no passages yet" in out and "rag index add" in out


def test_the_manifest_records_how_long_the_build_took(tmp_path: Path, corpus: Path) -> None:
    ix = tmp_path / "ix"
    code, out, _ = run("index", "add", str(corpus), "--index", str(ix), "--json")
    assert code == 0
    seconds = json.loads(out)["seconds"]
    _, info, _ = run("index", "info", "--index", str(ix), "--json")
    assert seconds > 0 and json.loads(info)["manifest"]["last_build"]["seconds"] == seconds


def test_help_says_what_the_readme_says() -> None:
    code, out, _ = run("eval", "--help")
    assert code == 0 and "eval [OPTIONS] GOLD" in out and "rag eval compare" in out
    code, out, _ = run("index", "remove", "--help")
    assert code == 0 and "--embed-model" not in out and "--max-file-mb" not in out


def test_an_empty_question_is_refused_before_anything_else(tmp_path: Path) -> None:
    code, out, err = run("ask", "  ", "--index", str(tmp_path / "ix"))
    assert code == 1 and "the question is empty" in err
    assert "draft" not in out + err and "loading" not in err
