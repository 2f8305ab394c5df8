"""The JSON API v1 (see API.md): one blueprint; each feature's api.py adds its routes with `route`.

Error precedence (API.md): 429, 413, 400, 401, 403 by role, 404, 403, 428, 412, 409, 422. Views keep
it by the order of their steps: `json_body()` (400) before any look-up, `require_roles` (403) before
the object is loaded (404), `check_if_match` (428/412) before the service (409/422).
"""

from __future__ import annotations

from . import openapi as _openapi  # noqa: F401
from .core import (  # noqa: F401
    bp,
    check_if_match,
    json_body,
    paginate,
    query_args,
    require_roles,
    route,
    validate,
    with_etag,
)
