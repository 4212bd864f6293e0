"""Shared fixtures: the real MNIST files (fetched by the project's own code) and small IDX files made in the test."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cnn import data

# The tests that take a minute or more on 2 cores (make test-all's --durations lists them). Handed out first, two at a
# time (make test-all's --maxschedchunk 2), they overlap each other and the short tests fill in around them; handed
# out last, the longest ends alone while the other workers wait.
LONGEST = (
    "test_clearing_as_the_answer_appears_never_blanks_the_page", "test_an_oversized_canvas_message_is_refused",
    "test_four_sessions_each_see_their_own_digit", "test_the_shipped_robustness_figures_are_those",
    "test_walk_every_chapter_answering_each_question", "test_label_drawings_save_them_see_the_gallery",
    "test_two_replicas_keep_their_sessions", "test_a_waiting_tab_gets_its_turn",
)


def pytest_collection_modifyitems(config, items):
    """The longest tests first, in the order listed; the rest as collected."""
    def rank(item) -> int:
        return next((k for k, name in enumerate(LONGEST) if item.name.startswith(name)), len(LONGEST))

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four verified MNIST files, fetched when missing as a user's run would."""
    return data.ensure_mnist()


@pytest.fixture(scope="session")
def mnist_test(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    return data.load_split("test", mnist_dir, fetch=False)


def require_browser() -> None:
    """Skip the calling test module when no Chromium is installed, unless REQUIRE_E2E=1 makes that an error."""
    from tools.pagedriver import chromium_path

    if chromium_path() is None:
        if os.environ.get("REQUIRE_E2E") == "1":
            raise RuntimeError("REQUIRE_E2E=1 but no chromium was found on the PATH (apt-get install chromium)")
        pytest.skip("no chromium on the PATH: install Debian's chromium to run the browser tests", allow_module_level=True)


@pytest.fixture(scope="session")
def postgres_base():
    """A PostgreSQL server of the tests' own (tools/postgres.py), its base URL; skipped with the reason where the
    server programs are missing, unless REQUIRE_E2E=1 (CI) makes that an error."""
    from tools.postgres import NoPostgres, temporary_server

    try:
        server = temporary_server()
        base = server.__enter__()
    except NoPostgres as e:
        if os.environ.get("REQUIRE_E2E") == "1":
            raise RuntimeError(f"REQUIRE_E2E=1 but {e}") from None
        pytest.skip(str(e))
    yield base
    server.__exit__(None, None, None)


@pytest.fixture(scope="session", autouse=True)
def drawings_store_of_the_tests(tmp_path_factory):
    """Every page the tests start (AppTest and served) saves drawings into a store of their own, never data/."""
    url = f"sqlite:///{tmp_path_factory.mktemp('drawings') / 'drawings.sqlite'}"
    before = os.environ.get("DRAWINGS_DB")
    os.environ["DRAWINGS_DB"] = url
    yield url
    if before is None:
        os.environ.pop("DRAWINGS_DB", None)
    else:
        os.environ["DRAWINGS_DB"] = before
