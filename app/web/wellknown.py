"""/.well-known/jwks.json: the public keys that verify proofs (docs/proofs.md)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from app.runtime import runtime
from app.web.openapi import describe
from app.web.views import JwksView

bp = Blueprint("wellknown", __name__)


@bp.get("/.well-known/jwks.json")
@describe(
    "The keys that verify proofs",
    description="A JWK Set (RFC 7517): the signing key first, then keys published for"
    " verification only (rotation). Each `kid` is the key's RFC 7638 thumbprint. Cacheable"
    " for `[proofs] jwks_max_age` seconds; 404 when proofs are off.",
    tag="proofs",
    ok=JwksView,
    errors=(404,),
)
def jwks() -> Response:
    signer = runtime().ctx.proofs
    if signer is None:
        abort(404)
    response = jsonify(JwksView.model_validate(signer.jwks()).model_dump(mode="json"))
    response.headers["Cache-Control"] = f"public, max-age={signer.max_age}"
    # Public keys only: any origin may read them, e.g. a browser checking a proof itself.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    response.make_conditional(request)
    return response
