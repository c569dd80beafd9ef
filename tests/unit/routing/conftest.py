"""The router as it runs: rules and stations from config/, jieba, phone areas; built once."""

from __future__ import annotations

import pytest

from hotline.bootstrap import build_router
from settings.files import load_config
from tests.conftest import REPO
from ticketing.domain.routing import KeywordRouter


@pytest.fixture(scope="session")
def router() -> KeywordRouter:
    return build_router(load_config(REPO / "config"))
