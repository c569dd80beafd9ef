"""The real Korean Vosk model, loaded once for the whole run (as a worker loads it once)."""

from __future__ import annotations

import dataclasses

import pytest

from hotline.asr.model import LoadedModel, load_model
from hotline.bootstrap import Context
from tests.asr_support import korean_model_path


@pytest.fixture(scope="session")
def korean_model() -> LoadedModel:
    return load_model(korean_model_path())


@pytest.fixture
def asr_context(context: Context, korean_model: LoadedModel) -> Context:
    """The test context with HOTLINE_ASR_MODEL pointing at the Korean model."""
    settings = context.settings.model_copy(update={"asr_model": korean_model.path})
    return dataclasses.replace(context, settings=settings)


@pytest.fixture
def no_model_context(context: Context) -> Context:
    """The test context with no model, whatever HOTLINE_ASR_MODEL says (it may name a Chinese model)."""
    return dataclasses.replace(context, settings=context.settings.model_copy(update={"asr_model": None}))
