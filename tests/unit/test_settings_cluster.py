"""NEWSFLOW_REDIS_CLUSTER needs a prefix whose keys all hash to one slot."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, hash_tag


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        ("{newsflow}:", "newsflow"),
        ("a{b}c:", "b"),
        ("{a{b}:", "a{b"),  # Redis takes the first "{" and the first "}" after it
        ("{}{x}:", None),  # an empty first tag: the whole key is hashed
        ("newsflow:", None),
        ("{newsflow:", None),
        ("x}{y}:", "y"),
    ],
)
def test_hash_tag_follows_redis_rules(key: str, tag: str | None) -> None:
    assert hash_tag(key) == tag


def test_cluster_mode_refuses_a_prefix_without_hash_tag() -> None:
    with pytest.raises(ValidationError, match="NEWSFLOW_PREFIX 'newsflow:' has no hash tag"):
        Settings(redis_cluster=True)
    assert Settings(redis_cluster=True, prefix="{newsflow}:").prefix == "{newsflow}:"
    assert Settings(redis_cluster=False).prefix == "newsflow:"
