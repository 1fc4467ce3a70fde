"""The bus vocabulary: what the supervisor tells a stage, and what a stage tells the supervisor, as frozen
dataclasses. `encode` and `decode` are its one codec (a JSON object whose `type` names the class); the
bus carries nothing else, and receivers dispatch on the class (`match`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


class UnknownCommand(ValueError):
    """A bus message whose type or fields are not in the vocabulary."""


@dataclass(frozen=True)
class Start:
    """Supervisor -> stage: every worker is ready, begin (the ear starts listening)."""

    type: ClassVar[str] = "start"


@dataclass(frozen=True)
class Stop:
    """Supervisor -> stage: finish the loop and tear down."""

    type: ClassVar[str] = "stop"


@dataclass(frozen=True)
class Interrupt:
    """Supervisor -> every stage: drop all work of this turn and earlier ones."""

    type: ClassVar[str] = "interrupt"
    turn: int


@dataclass(frozen=True)
class Say:
    """Supervisor -> brain: speak this text verbatim as a new turn (`kioskctl say`)."""

    type: ClassVar[str] = "say"
    turn: int
    text: str


@dataclass(frozen=True)
class Ask:
    """Supervisor -> brain: a typed question, answered like a spoken one (`kioskctl ask`)."""

    type: ClassVar[str] = "ask"
    turn: int
    text: str


@dataclass(frozen=True)
class Hear:
    """Supervisor -> ear: play this audio file in as the microphone (`kioskctl hear`)."""

    type: ClassVar[str] = "hear"
    path: str


@dataclass(frozen=True)
class Words:
    """Supervisor -> ear: whether the transcript at the pause `pause_ns` sounds finished, and whether that
    is enough to end the turn (models/completeness.surely_finished)."""

    type: ClassVar[str] = "words"
    turn: int
    finished: bool
    pause_ns: int
    sure: bool = False


@dataclass(frozen=True)
class Visitor:
    """Supervisor -> face: what the visitor is doing (idle, listening, thinking)."""

    type: ClassVar[str] = "visitor"
    state: str


@dataclass(frozen=True)
class Opening:
    """Supervisor -> ear and face: the kiosk is open (listening, face awake) or closed (opening hours), and
    a note for the screen ("closed until Mon 09:00")."""

    type: ClassVar[str] = "opening"
    open: bool
    note: str = ""


@dataclass(frozen=True)
class Screenshot:
    """Supervisor -> face: save what the screen shows now as a PNG at `path` (written whole, then renamed)."""

    type: ClassVar[str] = "screenshot"
    path: str


@dataclass(frozen=True)
class Status:
    """Stage -> supervisor, and supervisor -> face: a worker's condition in a sentence; a problem is shown
    on screen until a status that is not one replaces it."""

    type: ClassVar[str] = "status"
    worker: str
    text: str
    problem: bool = False


@dataclass(frozen=True)
class Ready:
    """Stage -> supervisor: set up and running (setup_ms: what loading its models took)."""

    type: ClassVar[str] = "ready"
    worker: str
    setup_ms: int


@dataclass(frozen=True)
class Heartbeat:
    """Stage -> supervisor: alive at t_ns (monotonic)."""

    type: ClassVar[str] = "heartbeat"
    worker: str
    t_ns: int


@dataclass(frozen=True)
class Report:
    """Stage -> supervisor: an event (daemon/events.py), with the fields that come with it."""

    type: ClassVar[str] = "event"
    worker: str
    event: str
    turn: int | None
    t_ns: int
    fields: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The event as the events log and the turn tracker see it."""
        return {"event": self.event, "turn": self.turn, "t_ns": self.t_ns, "worker": self.worker, **self.fields}


Command = (Start | Stop | Interrupt | Say | Ask | Hear | Words | Visitor | Opening | Screenshot | Status | Ready
           | Heartbeat | Report)
_BY_TYPE: dict[str, type[Any]] = {c.type: c for c in (Start, Stop, Interrupt, Say, Ask, Hear, Words, Visitor, Opening,
                                                       Screenshot, Status, Ready, Heartbeat, Report)}


def encode(cmd: Command) -> dict[str, Any]:
    if isinstance(cmd, Report):
        return {"type": cmd.type, **{k: v for k, v in asdict(cmd).items() if k != "fields"}, **cmd.fields}
    return {"type": cmd.type, **asdict(cmd)}


def decode(obj: dict[str, Any]) -> Command:
    kind = obj.get("type")
    cls = _BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UnknownCommand(f"unknown bus message type {kind!r} (known: {', '.join(sorted(_BY_TYPE))})")
    names = {f.name for f in fields(cls)}
    given = {k: v for k, v in obj.items() if k != "type"}
    if cls is Report:
        given = {**{k: v for k, v in given.items() if k in names}, "fields": {k: v for k, v in given.items()
                                                                               if k not in names}}
    try:
        return cls(**given)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise UnknownCommand(f"bus message {kind!r}: {exc}") from None
