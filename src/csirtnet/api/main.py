"""The `NinjaAPI` of /api/v1/: metadata, token authentication, errors, the apps' routers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ninja import NinjaAPI

from csirtnet.api.auth import TokenAuth
from csirtnet.api.errors import install_error_handlers
from csirtnet.assistance.api import router as assistance_router
from csirtnet.evidence.api import router as evidence_router
from csirtnet.incidents.api import router as incidents_router
from csirtnet.sharing.api import router as sharing_router

if TYPE_CHECKING:
    from ninja.operation import Operation

DESCRIPTION = """\
The JSON API of csirtnet, the platform of the network of national CSIRTs of the Americas.

Authenticate every request with a personal API token (created at /account/tokens/ or with
`csirtnet create-token`) in the header `Authorization: Bearer <token>`. A read-only token
may only read. What a token sees follows the TLP 2.0 rule of the platform: an object the
token's organization may not see answers 404, as a missing one does.

Every error answers `{"detail": "...", "code": "..."}`. Times are RFC 3339 in UTC
(`2026-05-01T12:00:00Z`); TLP and PAP labels are written as `TLP:AMBER`, `PAP:GREEN`.
"""


class CsirtnetAPI(NinjaAPI):
    """A `NinjaAPI` whose OpenAPI operation ids are the handlers' names (`list_incidents`)."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Return the handler's function name: short and stable across refactorings."""
        return str(operation.view_func.__name__)


api = CsirtnetAPI(
    title="csirtnet API",
    version="1.0",
    description=DESCRIPTION,
    urls_namespace="api:v1",
    auth=TokenAuth(),
    docs_url=None,  # no Swagger UI: it would load scripts from a CDN
)
install_error_handlers(api)
api.add_router("/", incidents_router)
api.add_router("/", sharing_router)
api.add_router("/", assistance_router)
api.add_router("/", evidence_router)
