"""The FastAPI application: a JSON API and a few server-rendered pages over one index.

Every route is a thin layer over the public API (``compare``, ``Index``). Article text is only
ever rendered through autoescaping templates or the escaping HTML report.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from samestory.errors import InputError, MissingDependency, SamestoryError, SettingsError

try:
    from fastapi import Body, FastAPI, Form, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from fastapi.templating import Jinja2Templates
    from pydantic import BaseModel, Field
    from starlette.datastructures import MutableHeaders
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingDependency("fastapi", "web") from exc

from samestory.compare import compare
from samestory.document import Document
from samestory.indexing import record_fields
from samestory.report import comparison_html
from samestory.store import Index

__all__ = ["app_from_environment", "create_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000
_TEMPLATES = Path(__file__).parent / "templates"


class CompareRequest(BaseModel):
    a: str = Field(max_length=MAX_TEXT_CHARS, description="first article text")
    b: str = Field(max_length=MAX_TEXT_CHARS, description="second article text")


class QueryRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS, description="the article to look up")
    title: str = Field(default="", max_length=2000)
    top: int = Field(default=10, ge=1, le=100)
    detail: bool = Field(
        default=False,
        description="every match with all of compare's scores, best overall first; by "
        "default each match has the scores its verdict was decided on (the same verdicts, "
        "faster), ordered by verdict then Jaccard",
    )


class DocumentIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    id: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=2000)
    source: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=4000)
    published: str = Field(default="", max_length=64)


def _document(d: DocumentIn) -> Document:
    return Document(
        text=d.text, id=d.id, title=d.title, source=d.source, url=d.url, published=d.published
    )


def _doc_dict(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in record_fields(doc).items() if k != "meta"}


class _QueryCache:
    """Recently pasted query texts, so a results page can link to their comparisons.

    In memory, or in ``directory`` (one small JSON file each) when several server processes
    must see each other's queries.
    """

    def __init__(self, size: int = 256, directory: Path | None = None) -> None:
        self._items: OrderedDict[str, Document] = OrderedDict()
        self._size = size
        self._dir = directory

    def put(self, doc: Document) -> str:
        key = hashlib.sha256(f"{doc.title}\x00{doc.text}".encode()).hexdigest()[:24]
        if self._dir is not None:
            (self._dir / f"{key}.json").write_text(json.dumps([doc.title, doc.text]))
            files = sorted(self._dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
            for old in files[: max(0, len(files) - self._size)]:
                old.unlink(missing_ok=True)
            return key
        self._items[key] = doc
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Document | None:
        if self._dir is not None:
            path = self._dir / f"{key}.json"
            if not key.isalnum() or not path.exists():
                return None
            title, text = json.loads(path.read_text())
            return Document(text=text, title=title)
        return self._items.get(key)


_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class _Guard:
    """Refuses oversized, unauthorised and (read-only) write requests before they run, and
    puts the security headers on every response. Plain ASGI: Starlette's BaseHTTPMiddleware
    cost about a millisecond of CPU a request, a third of a fast query's."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authorised: Callable[[Request], bool],
        token: str | None,
        read_only: bool,
    ) -> None:
        self.app, self.authorised, self.token, self.read_only = app, authorised, token, read_only

    def _refusal(self, request: Request) -> Response | None:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _error(413, f"request body too large (limit {MAX_BODY_BYTES} bytes)")
        is_write = request.method in ("POST", "PUT", "PATCH", "DELETE")
        path = request.url.path
        read_call = path in ("/api/compare", "/api/query", "/results")
        if self.read_only and is_write and not read_call:
            return _error(403, "this server is read-only")
        needs_token = path.startswith("/api/") or is_write
        if needs_token and not self.authorised(request):
            return _error(401, "a valid token is required")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        cookie = None
        if self.token is not None and request.query_params.get("token") == self.token:
            carrier = Response()
            carrier.set_cookie("samestory_token", self.token, httponly=True, samesite="strict")
            cookie = carrier.headers["set-cookie"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if cookie is not None:
                    headers.append("set-cookie", cookie)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Content-Security-Policy"] = _CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    db: str | Path,
    *,
    token: str | None = None,
    read_only: bool = False,
    query_dir: str | Path | None = None,
) -> FastAPI:
    """The web application over the index at ``db``.

    Args:
        db: the index file (created if missing, unless ``read_only``).
        token: when set, every API call and every write needs it (``Authorization: Bearer``,
            or ``?token=`` once in a browser, which sets a cookie).
        read_only: refuse every write.
        query_dir: a directory that keeps pasted queries for their comparison links, shared
            by several server processes (default: in memory).
    """
    Index(db, create=not read_only).close()  # create it (or fail) before serving
    local = threading.local()

    def index() -> Index:
        # SQLite connections belong to the thread that opened them; the server runs routes
        # on a pool of threads, so each keeps its own (WAL lets them read side by side)
        if not hasattr(local, "index"):
            local.index = Index(db, create=False)
        return local.index

    templates = Jinja2Templates(directory=str(_TEMPLATES))
    queries = _QueryCache(directory=None if query_dir is None else Path(query_dir))
    app = FastAPI(
        title="samestory",
        summary="Find the news articles that tell the same story, and how they relate.",
        version=_version(),
    )

    def _authorised(request: Request) -> bool:
        if token is None:
            return True
        header = request.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        given = given or request.cookies.get("samestory_token", "")
        given = given or request.query_params.get("token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    app.add_middleware(_Guard, authorised=_authorised, token=token, read_only=read_only)

    @app.exception_handler(SamestoryError)
    async def samestory_error(request: Request, exc: SamestoryError) -> Response:
        status = 400 if isinstance(exc, InputError | SettingsError) else 500
        return _error(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, f"invalid request: {where}: {first.get('msg', 'bad value')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return _error(500, f"internal error ({type(exc).__name__})")

    # --- JSON API -------------------------------------------------------------------------

    @app.post("/api/compare", tags=["api"])
    def api_compare(req: CompareRequest) -> dict[str, Any]:
        """Compare two articles: the same JSON as ``samestory compare --json``."""
        return compare(req.a, req.b).to_dict()

    @app.post("/api/query", tags=["api"])
    def api_query(req: QueryRequest) -> dict[str, Any]:
        """The stored articles that tell the same story as ``text``, best first."""
        doc = Document(text=req.text, title=req.title)
        matches = index().query(doc, top=req.top, detail=req.detail)
        return {"matches": [_match_dict(m) for m in matches]}

    @app.post("/api/documents", tags=["api"], status_code=201)
    def api_add(docs: list[DocumentIn] | DocumentIn = Body(...)) -> dict[str, Any]:  # noqa: B008
        """Add one document or a list of them; returns their ids."""
        batch = docs if isinstance(docs, list) else [docs]
        return {"ids": list(index().add([_document(d) for d in batch]))}

    @app.get("/api/documents/{doc_id}", tags=["api"])
    def api_get(doc_id: str) -> dict[str, Any]:
        """One stored document."""
        return _doc_dict(_stored(index(), doc_id))

    @app.delete("/api/documents/{doc_id}", tags=["api"])
    def api_delete(doc_id: str) -> dict[str, Any]:
        """Remove one stored document."""
        _stored(index(), doc_id)
        index().remove(doc_id)
        return {"removed": doc_id}

    @app.get("/api/clusters", tags=["api"])
    def api_clusters(limit: int = 100) -> dict[str, Any]:
        """Duplicate clusters in the index (largest first)."""
        return {"clusters": index().clusters(limit=max(1, min(limit, 1000)))}

    @app.get("/api/stories", tags=["api"])
    def api_stories(limit: int = 100) -> dict[str, Any]:
        """Stories in the index (largest first), kept up to date as documents arrive."""
        return {"stories": index().stories(limit=max(1, min(limit, 1000)))}

    @app.get("/api/stats", tags=["api"])
    def api_stats() -> dict[str, Any]:
        """Index statistics."""
        return dict(index().stats())

    # --- pages ----------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "home.html", {"stats": index().stats()})

    @app.post("/results", response_class=HTMLResponse, include_in_schema=False)
    def results(
        request: Request,
        text: str = Form(..., max_length=MAX_TEXT_CHARS),
        title: str = Form("", max_length=2000),
    ) -> Response:
        doc = Document(text=text, title=title)
        key = queries.put(doc)
        matches = [_match_dict(m) for m in index().query(doc, top=20)]
        ctx = {"matches": matches, "query_key": key, "query_title": title}
        return templates.TemplateResponse(request, "results.html", ctx)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(doc: str, q: str = "", a: str = "") -> Response:
        left = queries.get(q) if q else (_stored(index(), a) if a else None)
        if left is None:
            return _error(404, "that query has expired; search again", html=True)
        right = _stored(index(), doc)
        return HTMLResponse(comparison_html(compare(left, right)))

    @app.get("/documents/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str) -> Response:
        stored = _stored(index(), doc_id)
        matches = [_match_dict(m) for m in index().query(stored, top=20) if m.id != doc_id]
        return templates.TemplateResponse(
            request, "document.html", {"doc": stored, "matches": matches}
        )

    @app.get("/stories", response_class=HTMLResponse, include_in_schema=False)
    def stories_page(request: Request) -> Response:
        ctx = {"stories": index().stories(limit=50), "heading": "Stories"}
        return templates.TemplateResponse(request, "stories.html", ctx)

    return app


_WARM = (
    "The ferry left the harbour at dawn with forty passengers aboard, officials said Monday.",
    "Forty passengers were aboard the ferry when it left port at daybreak, officials said.",
)


def warm_models() -> threading.Thread:
    """Load the embedding model and the paraphrase cross-encoder (where the embed extra is
    installed), then compare two sentences (the word lists and compiled kernels load), in a
    background thread: a server's first comparison then takes ~0.01 s, not ~2 s. Returns the
    started thread; requests that come meanwhile wait on the models' locks."""
    from samestory import cross, embed

    def load() -> None:
        if embed.available():
            embed.default_embedder()._load()
        if cross.available():
            cross.default_cross_encoder()._load()
        compare(*_WARM)

    thread = threading.Thread(target=load, name="samestory-warm-models", daemon=True)
    thread.start()
    return thread


def app_from_environment() -> FastAPI:
    """:func:`create_app` with the settings ``samestory serve --workers N`` passes its worker
    processes in the environment (``SAMESTORY_SERVE_DB``, ``SAMESTORY_TOKEN``,
    ``SAMESTORY_SERVE_READ_ONLY``, ``SAMESTORY_SERVE_QUERIES``)."""
    env = os.environ
    warm_models()
    return create_app(
        env["SAMESTORY_SERVE_DB"],
        token=env.get("SAMESTORY_TOKEN") or None,
        read_only=env.get("SAMESTORY_SERVE_READ_ONLY") == "1",
        query_dir=env.get("SAMESTORY_SERVE_QUERIES") or None,
    )


def _stored(index: Index, doc_id: str) -> Document:
    doc = index.get(doc_id)
    if doc is None:
        raise StarletteHTTPException(404, f"no document with id {doc_id!r}")
    return doc


def _match_dict(match: Any) -> dict[str, Any]:
    row = dict(match.to_dict())
    overall = row["scores"].get("overall")  # absent from a fast query's duplicates
    row["overall"] = None if overall is None else float(overall)
    return row


def _error(status: int, message: str, *, html: bool = False) -> Response:
    if html:
        from html import escape

        return HTMLResponse(f'<p class="error">{escape(message)}</p>', status_code=status)
    return JSONResponse({"error": message}, status_code=status)


def _version() -> str:
    from samestory import __version__

    return __version__
