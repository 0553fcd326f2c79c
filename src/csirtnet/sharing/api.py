"""JSON endpoints of sharing (mounted under /api/v1/ by `csirtnet.api`): correlation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from csirtnet.api.errors import INVALID, ApiError, error_responses, reject_unknown_parameters
from csirtnet.sharing.correlation import Correlation, correlate
from csirtnet.sharing.schemas import CorrelationOut, CorrelationQuery

router = Router(tags=["sharing"])


@router.get("/correlation", response={200: CorrelationOut, **error_responses(400, 401, 403)})
def correlate_value(request: HttpRequest, query: Query[CorrelationQuery]) -> Correlation:
    """
    Return the incidents, STIX objects and sightings that hold `value` (normalized:
    IDN to punycode, IPv6 compressed, hashes lower-case), only among those the token's
    organization may see under the TLP rule.
    """
    reject_unknown_parameters(request, CorrelationQuery.model_fields)
    try:
        return correlate(
            actor=request.actor,  # type: ignore[attr-defined]
            value=query.value,
            kind=query.type.value if query.type else None,
        )
    except ValueError as error:
        raise ApiError(400, INVALID, f"value: {error}") from None
