"""Open311 GeoReport v2 (JSON): ``/open311/v2/services.json``, ``requests.json`` (GET a list, POST a new request
with an API key) and ``requests/<id>.json``. The rules and the field-by-field shape are
``services.web.open311``; this module reads the HTTP parameters and answers with the spec's status codes
(400 bad parameters, 403 a missing or unknown API key, 404 an unknown request or format)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.web import open311
from web.core import web_of

JSON_TYPE = "application/json; charset=utf-8"


def _names(request: Request) -> Mapping[str, str]:
    w = web_of(request)
    return {code: info.name for code, info in w.engine.model.info.items()}


def _error(err: open311.Open311Error) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, media_type=JSON_TYPE)


def _json(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=JSON_TYPE)


def _format(request: Request) -> JSONResponse | None:
    """Only JSON is served; ``.xml`` (the spec's other format) is a 404 naming what is."""
    if request.path_params.get("fmt", "json") != "json":
        return _error(open311.Open311Error(404, "only the json format is served (use .json)"))
    return None


async def service_list(request: Request) -> Response:
    return _format(request) or _json(open311.services(web_of(request).engine))


async def request_list(request: Request) -> Response:
    if (bad := _format(request)) is not None:
        return bad
    w = web_of(request)
    try:
        q = open311.Query.parse(request.query_params, now=w.now())
    except open311.Open311Error as err:
        return _error(err)
    async with w.db.session() as s:
        found = await open311.find_requests(s, q)
    names = _names(request)
    return _json([open311.request_dict(t, community=w.community, names=names, now=w.now()) for t in found])


async def one_request(request: Request) -> Response:
    if (bad := _format(request)) is not None:
        return bad
    w = web_of(request)
    async with w.db.session() as s:
        t = await open311.find_request(s, request.path_params["id"])
    if t is None:
        return _error(open311.Open311Error(404, f"no service request {request.path_params['id']}"))
    return _json([open311.request_dict(t, community=w.community, names=_names(request), now=w.now())])


async def create_request(request: Request) -> Response:
    if (bad := _format(request)) is not None:
        return bad
    w = web_of(request)
    try:
        params = {k: str(v) for k, v in (await request.form(max_files=0, max_fields=40)).items()}
    except Exception:  # not a form body
        return _error(open311.Open311Error(400, "the body must be application/x-www-form-urlencoded"))
    params = {**dict(request.query_params), **params}
    async with w.db.session() as s:
        client = await open311.client_of(s, params.get("api_key"))
    if client is None:
        return _error(open311.Open311Error(403, "api_key is missing or not valid"))
    try:
        async with w.db.transaction() as s:
            filed = await open311.file_request(s, params, client=client, community=w.community,
                                               staff_chat_id=w.staff_chat_id, now=w.now())
    except open311.Open311Error as err:
        return _error(err)
    w.hooks.wake()
    notice = "已并入正在办理的相同诉求" if filed.linked else ""
    return _json([{"service_request_id": filed.ticket.number, "service_notice": notice, "account_id": None}], 201)


routes = [
    Route("/open311/v2/services.{fmt}", service_list, methods=["GET"]),
    Route("/open311/v2/requests.{fmt}", request_list, methods=["GET"]),
    Route("/open311/v2/requests.{fmt}", create_request, methods=["POST"]),
    Route("/open311/v2/requests/{id}.{fmt}", one_request, methods=["GET"]),
]
