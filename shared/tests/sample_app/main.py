from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import func, select

from roadmap_shared.app import create_app
from roadmap_shared.database import Database, SessionDep
from roadmap_shared.errors import Conflict
from roadmap_shared.resources import AppResources
from roadmap_shared.settings import AppSettings
from tests.sample_app.models import Note

router = APIRouter()


class NoteIn(BaseModel):
    text: str


@router.post("/notes", status_code=201)
async def add_note(note: NoteIn, session: SessionDep) -> dict[str, int]:
    row = Note(text=note.text)
    session.add(row)
    await session.flush()
    if note.text == "fail after write":
        raise Conflict("the write above must be rolled back")
    return {"id": row.id}


@router.get("/notes/count")
async def count_notes(session: SessionDep) -> dict[str, int]:
    return {"count": await session.scalar(select(func.count()).select_from(Note)) or 0}


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


def build_app(
    settings: AppSettings, database_url: str, *, database: Database | None = None
) -> FastAPI:
    return create_app(
        settings,
        title="Sample",
        routers=[router],
        resources=AppResources(database or Database(database_url)),
    )
