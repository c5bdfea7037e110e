"""marshmallow's nested validation messages as flat (field path, text) pairs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def flatten_messages(
    messages: Any, path: str = "", *, schema_key_is_parent: bool = False
) -> Iterator[tuple[str, str]]:
    """Yield (`stages[3].next[0]`, text) for every message; the root's path is "".

    List positions are written `[i]`, the way the domain rules name fields. With
    `schema_key_is_parent`, a schema-level message (`_schema`) belongs to the
    object that holds it instead of a field of that name.
    """
    if isinstance(messages, dict):
        for key, nested in messages.items():
            if key == "_schema" and schema_key_is_parent:
                inner = path
            elif isinstance(key, int):
                inner = f"{path}[{key}]"
            else:
                inner = f"{path}.{key}" if path else str(key)
            yield from flatten_messages(nested, inner, schema_key_is_parent=schema_key_is_parent)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield path, message
    else:
        yield path, str(messages)
