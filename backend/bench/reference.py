"""The practical ceiling: bare Starlette, an asyncpg pool, PyJWT and orjson, answering
the same two requests as the app (an employee's 50 newest visible tickets; file one).

Run as `uvicorn bench.reference:app` with DATABASE_URL and SECRET_KEY set.
"""

import os
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = os.environ["SECRET_KEY"]
LIST = """
SELECT t.id, t.spent_on, t.amount::text, t.description, t.links, t.status::text,
       t.created_at, t.updated_at, t.decided_at, t.decision_note
FROM tickets t JOIN users o ON o.id = t.owner_id
WHERE t.owner_id = $1 AND NOT o.suspended
ORDER BY t.created_at DESC, t.id DESC LIMIT 50
"""
INSERT = """
INSERT INTO tickets (owner_id, spent_on, amount, description, links)
VALUES ($1, $2, $3::numeric, $4, $5) RETURNING id, created_at
"""


def _user_id(request: Request) -> int | None:
    header = request.headers.get("authorization", "")
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return int(claims["sub"])


def _json(payload: object, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


async def list_tickets(request: Request) -> Response:
    user_id = _user_id(request)
    if user_id is None:
        return _json({"detail": "unauthorised"}, 401)
    async with request.app.state.pool.acquire() as connection:
        rows = await connection.fetch(LIST, user_id)
    return _json({"items": [dict(row) for row in rows]})


async def file_ticket(request: Request) -> Response:
    user_id = _user_id(request)
    if user_id is None:
        return _json({"detail": "unauthorised"}, 401)
    body = orjson.loads(await request.body())
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow(
            INSERT,
            user_id,
            date.fromisoformat(body["spent_on"]),
            str(body["amount"]),
            body["description"],
            body.get("links", []),
        )
    return _json(dict(row), 201)


@asynccontextmanager
async def lifespan(app: Starlette):
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    app.state.pool = await asyncpg.create_pool(url, min_size=10, max_size=20)
    yield
    await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/api/tickets", list_tickets, methods=["GET"]),
        Route("/api/tickets", file_ticket, methods=["POST"]),
    ],
    lifespan=lifespan,
)
