"""The packet's identity: the digest of its content (built by `service.domain.packet`).

The content is stored with the packet row and rendered exactly; its digest
identifies the packet's inputs, so the same inputs give the same digest (and
the same PDF, byte for byte: the document's dates derive from the data).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Bump when the document's layout or content rules change, so old digests no longer match.
RENDERER_VERSION = "3"


def content_digest(content: dict[str, Any]) -> str:
    """The sha256 of the content and the renderer version, canonically serialised."""
    canonical = json.dumps(
        {"renderer": RENDERER_VERSION, "content": content},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
