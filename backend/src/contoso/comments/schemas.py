from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from contoso.tickets.schemas import Person
from contoso.validation import TextRules

MAX_COMMENT = 2000

Body = Annotated[str, TextRules(MAX_COMMENT, what="The comment")]


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"body": "The hotel bill is attached now; the minibar is not on it."}]
        },
    )

    body: Body


class CommentRead(BaseModel):
    """A comment on a ticket, by its owner or an employer; comments are never edited."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    author: Person
    body: str
    created_at: datetime
