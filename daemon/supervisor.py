"""The supervisor: creates the rings, spawns the workers (daemon/worker_table.py), routes the event bus,
answers kioskctl, tells systemd, and shuts everything down in order."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from daemon import commands as cmds
from daemon.api_child import ApiChild
from daemon.asked import AskedTurns
from daemon.bus import Bus
from daemon.config import Config, ConfigError, site_file
from daemon.control import ControlServer
from daemon.events import Event, EventLog
from daemon.lifecycle import Lifecycle, State
from daemon.messages import new_turn_id
from daemon.metrics import Live, Metrics, WorkerSample
from daemon.notify import monotonic_usec, notify, watchdog_interval
from daemon.opening_hours import describe, is_open
from daemon.paths import control_socket
from daemon.portrait_check import check_portrait
from daemon.releases import release_of
from daemon.ring import Ring
from daemon.spawner import Spawner, WorkerProcess
from daemon.turn_tracker import Command, Finish, Interrupt, Tell, TurnClosed, TurnTracker
from daemon.worker import WorkerSpec, bus_path
from daemon.worker_table import BY_NAME, PIPELINE, WORKERS

log = logging.getLogger("kioskd")

# The workers' environment (set for the zygote they fork from, daemon/spawner.py).
# One BLAS/OpenMP thread per worker unless the operator asks for more: two cores are shared by five.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
COMMAND_WAIT_S = 1.0  # a worker busy in a long step still gets its commands (see Bus.send)
OPENING_CHECK_S = 1.0  # how often the schedule is looked at


@dataclass
class RunOptions:
    runtime_dir: Path
    audio_in: str | None = None
    display: str | None = None
    record: Path | None = None
    events: Path | None = None
    turns: int | None = None
    site: Path | None = None  # --config: the site file (else $KIOSKD_CONFIG, a pushed release's current/, /etc/kioskd)
    #: loads and validates the config again (SIGHUP, kioskctl reload); raises ConfigError
    reload: Callable[[], Config] | None = None


@dataclass
class WorkerState:
    proc: WorkerProcess
    life: Lifecycle
    status: str = ""
    kill_reason: str = ""  # why the supervisor killed it (a hang), reported as the exit's reason
    hung: bool = False  # killed for a hang: down since its last heartbeat, not since the kill
    exited_at: float | None = None

    @property
    def name(self) -> str:
        return self.life.name


class Supervisor:
    def __init__(self, config: Config, options: RunOptions) -> None:
        self.config = config
        self.options = options
        self.run_dir = options.runtime_dir
        self.metrics = Metrics(self._live)
        self.events = EventLog(options.events, config.privacy.log_transcripts, [self.metrics.on_event])
        self.workers: dict[str, WorkerState] = {}
        self.rings: dict[tuple[str, str], Ring] = {}
        self.asked = AskedTurns()
        self.turns = TurnTracker(options.turns)
        self.ready = False
        self.exit_code = 0
        self._stop_reason: str | None = None
        self._boot_ns = time.monotonic_ns()
        self._reload_requested = False
        self._api_changed = False
        self._face_segments = 0
        self._watchdog_s = watchdog_interval()
        self.opening: tuple[bool, str] = (True, "always open")  # open now, and the note that says until when
        self._opening_checked = 0.0
        self._last_ping = 0.0
        self.site = self._site()  # the file the running config was read from, symlinks resolved

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_sighup)
        self.bus = Bus(bus_path(self.run_dir, "supervisor"))
        self.control = ControlServer(control_socket(self.run_dir), self._on_request)
        self.api = ApiChild(self.run_dir, self.config.api, self.bus)
        self.events.listeners.append(self.api.forward)
        self._screenshots = 0
        try:
            self._create_rings()
            self.spawner = Spawner(WORKER_ENV)
            for name in PIPELINE:
                self._spawn(name)
            self.api.start()
            notify(STATUS="starting workers")
            while self._stop_reason is None:
                self._step()
            log.info("shutting down: %s", self._stop_reason)
        finally:
            notify(STOPPING="1", STATUS="stopping")
            self._shutdown()
        return self.exit_code

    def _on_sighup(self, _signum: int, _frame: object) -> None:
        self._reload_requested = True

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop(f"signal {signal.Signals(signum).name}")

    def stop(self, reason: str, code: int = 0) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            self.exit_code = code

    def _create_rings(self) -> None:
        for w in WORKERS:
            link = w.output
            self.rings[(w.name, link.to)] = Ring.create(f"kioskd.{os.getpid()}.{w.name}-{link.to}", link.size,
                                                        link.policy)

    def _options_for(self, name: str) -> dict[str, Any]:
        o = self.options
        if name == "ear":
            return {"audio_in": o.audio_in or self.config.audio_in.source}
        if name == "face":
            return {"display": o.display or self.config.face.display, "record": str(o.record) if o.record else None}
        return {}

    def _spawn(self, name: str) -> None:
        previous = self.workers.get(name)
        if previous is not None:
            # A restarted consumer starts clean: what its predecessor left in its ring is stale.
            for (_, dst), ring in self.rings.items():
                if dst == name:
                    ring.reset()
        ring_in = next((r.name for (s, d), r in self.rings.items() if d == name), None)
        ring_out = next((r.name for (s, d), r in self.rings.items() if s == name), None)
        options = self._options_for(name)
        if previous is not None and options.get("record"):
            # A restarted face records the rest of the session next to the first file, never over it.
            self._face_segments += 1
            first = Path(options["record"])
            options["record"] = str(first.with_name(f"{first.stem}.{self._face_segments}{first.suffix}"))
        spec = WorkerSpec(name, self.run_dir, self.config.model_dump(mode="json"), ring_in, ring_out, options)
        spec_path = self.run_dir / f"{name}.spec.json"
        spec_path.write_text(json.dumps(spec.to_json()))
        proc = self.spawner.spawn(name, spec_path)
        life = previous.life if previous is not None else Lifecycle(name)
        life.spawned(time.monotonic())
        self.workers[name] = WorkerState(proc, life, exited_at=previous.exited_at if previous else None)
        log.info("spawned %s (pid %d)", name, proc.pid)

    def _shutdown(self) -> None:
        self.api.stop()
        # Stop capture first and the screen last, so nothing new enters a pipeline that is draining.
        for name in PIPELINE:
            w = self.workers.get(name)
            if w is None or w.proc.poll() is not None:
                continue
            self.bus.send(bus_path(self.run_dir, name), cmds.Stop(), wait_s=COMMAND_WAIT_S)
            try:
                w.proc.wait(timeout=BY_NAME[name].stop_grace_s)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time: killing it", name)
                w.proc.kill()
                w.proc.wait()
        for ring in self.rings.values():
            ring.close()
            ring.unlink()
        self.control.close()
        self.bus.close()
        for name in PIPELINE:
            (self.run_dir / f"{name}.spec.json").unlink(missing_ok=True)
        for shot in self.run_dir.glob("screenshot-*.png"):  # asked for, never collected
            shot.unlink(missing_ok=True)
        self.events.close()

    # -- main loop ---------------------------------------------------------------------------
    def _step(self) -> None:
        # A worker's sentinel becomes readable when it exits: a crash (or the kill of a hung worker) is
        # handled at once rather than at the next tick.
        sentinels = [w.proc.sentinel for w in self.workers.values() if w.life.state in (State.STARTING, State.RUNNING)]
        select.select([self.bus, self.control, *sentinels], [], [], 0.1)
        while (msg := self.bus.recv()) is not None:
            self._on_bus(msg)
        self.control.serve_pending()
        self._watch_workers()
        self.api.watch()
        if self._api_changed:
            self._api_changed = False
            self.api.reconfigure(self.config.api)
        if self._reload_requested:
            self._reload_requested = False
            self.reload()
        self._ping_watchdog()
        self._check_opening()
        if not self.ready and time.monotonic_ns() - self._boot_ns > self.config.supervisor.ready_timeout_s * 1e9:
            slow = [w.name for w in self.workers.values() if w.life.state is not State.RUNNING]
            self.stop(f"workers not ready after {self.config.supervisor.ready_timeout_s:.0f} s: {', '.join(slow)}", 1)
        self._apply(self.turns.due(time.monotonic(), self.config.supervisor.drain_timeout_s))

    def _watch_workers(self) -> None:
        now = time.monotonic()
        for w in list(self.workers.values()):
            if w.life.state in (State.STARTING, State.RUNNING):
                code = w.proc.poll()
                if code is not None:
                    self._worker_exited(w, code, now)
                elif w.kill_reason:
                    continue  # killed, its exit not seen yet
                elif w.life.hung(now):
                    # SIGKILL works on a stopped (SIGSTOP) process too; the exit is handled next step.
                    self._kill(w, f"hung: no heartbeat for {now - w.life.last_beat:.1f} s", hung=True)
                elif (self.ready and w.life.state is State.STARTING
                      and now - w.life.started_at > self.config.supervisor.ready_timeout_s):
                    self._kill(w, f"not ready {self.config.supervisor.ready_timeout_s:g} s after a restart")
            elif w.life.due(now):
                self._spawn(w.name)

    def healthy(self) -> bool:
        """The whole pipeline is alive: every worker running (or restarting within its back-off, not
        FATAL) and the renderer's heartbeat fresh. Only then does systemd get WATCHDOG=1."""
        return self.unhealthy() is None

    def unhealthy(self) -> str | None:
        """Why the pipeline is not healthy, or None (/healthz's reason)."""
        if not self.ready:
            return "starting: workers are loading their models"
        fatal = [f"{w.name}: {w.life.reason}" for w in self.workers.values() if w.life.state is State.FATAL]
        if fatal:
            return "failed for good: " + "; ".join(fatal)
        face = self.workers.get("face")
        if face is None or face.life.state is not State.RUNNING:
            return "the face is restarting"
        if face.life.hung(time.monotonic()):
            return "the face has stopped drawing"
        return None

    def _live(self) -> Live:
        return Live([WorkerSample(w.name, w.proc.pid if w.proc.poll() is None else None, w.life.state.value,
                                  w.life.restarts) for w in self.workers.values()],
                    {f"{src}-{dst}": ring.drops for (src, dst), ring in self.rings.items()}, self.healthy())

    def _check_opening(self, force: bool = False) -> None:
        """Once a second: open or closed by the schedule; a change (or `force`) tells the ear and the face."""
        now = time.monotonic()
        if not self.ready or (not force and now - self._opening_checked < OPENING_CHECK_S):
            return
        self._opening_checked = now
        rules, local = self.config.schedule.rules(), datetime.now()
        state = (is_open(rules, local), describe(rules, local))
        if state == self.opening and not force:
            return
        if state[0] != self.opening[0] or force:
            log.info("%s (schedule)", state[1])
            self.events.write({"event": Event.OPENING, "turn": None, "t_ns": time.monotonic_ns(), "open": state[0],
                               "note": state[1]})
            if not state[0]:
                self._apply(self.turns.interrupt(new_turn_id(), "the kiosk closed"))
        self.opening = state
        for name in ("ear", "face"):
            self._tell(name, cmds.Opening(*state))

    def _ping_watchdog(self) -> None:
        now = time.monotonic()
        if self._watchdog_s is not None and now - self._last_ping >= self._watchdog_s and self.healthy():
            notify(WATCHDOG="1")
            self._last_ping = now

    def reload(self) -> dict[str, Any]:
        """Validate the config again; on any error keep the old one. Restart only the workers whose
        sections changed."""
        if self.options.reload is None:
            return {"ok": False, "error": "this kioskd was started without a reloadable config"}
        notify(RELOADING="1", MONOTONIC_USEC=monotonic_usec(), STATUS="reloading the configuration")
        try:
            new = self.options.reload()
            if new.face.portrait != self.config.face.portrait:
                # A portrait the face cannot use would restart it in a loop: keep the one on screen.
                for note in check_portrait(new.face.portrait):
                    log.warning("%s", note)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration:\n%s", exc)
            notify(READY="1", STATUS="reload refused: the new configuration is invalid")
            self.events.write({"event": Event.RELOAD, "turn": None, "t_ns": time.monotonic_ns(), "ok": False,
                               "error": str(exc)})
            return {"ok": False, "error": str(exc)}
        old_dump, new_dump = self.config.model_dump(mode="json"), new.model_dump(mode="json")
        changed = sorted(k for k in new_dump if new_dump[k] != old_dump[k])
        restart = [w.name for w in WORKERS if set(w.sections) & set(changed)]
        self.config = new
        self.site = self._site()
        self.events.log_words = new.privacy.log_transcripts
        # After this reply is sent: the reload may have come through the API being replaced.
        self._api_changed = "api" in changed
        for name in restart:
            self._restart_planned(name)
        log.info("reloaded: changed %s; restarted %s", changed or "nothing", restart or "no worker")
        self.events.write({"event": Event.RELOAD, "turn": None, "t_ns": time.monotonic_ns(), "ok": True,
                           "changed": changed, "restarted": restart})
        notify(READY="1", STATUS="listening")
        return {"ok": True, "changed": changed, "restarted": restart}

    def _site(self) -> Path | None:
        site = self.options.site or site_file()
        return site.resolve() if site is not None else None

    def _restart_planned(self, name: str) -> None:
        w = self.workers[name]
        if w.proc.poll() is None:
            self.bus.send(bus_path(self.run_dir, name), cmds.Stop(), wait_s=COMMAND_WAIT_S)
            try:
                w.proc.wait(timeout=BY_NAME[name].stop_grace_s)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()
        w.exited_at = time.monotonic()
        self._spawn(name)

    def _kill(self, w: WorkerState, reason: str, hung: bool = False) -> None:
        w.kill_reason = reason
        w.hung = hung
        log.error("%s %s: killing it", w.name, reason, extra={"WORKER": w.name})
        w.proc.kill()

    def _worker_exited(self, w: WorkerState, code: int, now: float) -> None:
        why = w.kill_reason or f"exited with code {code}"
        hung, w.hung = w.hung, False
        w.kill_reason = ""
        w.exited_at = now
        was_ready = self.ready
        w.life.exited(now, why, hung=hung)
        self.events.write({"event": Event.WORKER_EXIT, "turn": None, "t_ns": time.monotonic_ns(), "worker": w.name,
                           "reason": why, "state": w.life.state.value})
        if not was_ready and w.life.state is State.FATAL:
            self.stop(f"worker {w.name} cannot start: {w.life.reason}", code=1)
            return
        text = (f"{w.name} failed for good: {w.life.reason}" if w.life.state is State.FATAL
                else f"{w.name} {why}; restarting")
        log.error("%s", text, extra={"WORKER": w.name, "RESTARTS": w.life.restarts, "STATE": w.life.state.value})
        notify(STATUS=text)
        self._tell_face(w.name, "A moment please, I'm restarting part of myself." if w.name != "face" else "", True)
        self._apply(self.turns.worker_lost(f"{w.name} {why}"))

    def _apply(self, commands: list[Command]) -> None:
        for c in commands:
            match c:
                case Tell():
                    self._tell(c.worker, c.cmd)
                case Interrupt():
                    self._broadcast(cmds.Interrupt(c.upto))
                case TurnClosed():
                    self.events.write({"event": Event.TURN_END, "turn": c.turn, "t_ns": time.monotonic_ns(),
                                       "answered": False, "reason": c.reason})
                case Finish():
                    self.stop(c.reason, c.code)

    def _tell_face(self, worker: str, text: str, problem: bool) -> None:
        self._tell("face", cmds.Status(worker, text, problem))

    def _tell(self, name: str, cmd: cmds.Command) -> None:
        w = self.workers.get(name)
        if w is not None and w.life.state is State.RUNNING:
            self.bus.send(bus_path(self.run_dir, name), cmd, wait_s=COMMAND_WAIT_S)

    def _broadcast(self, cmd: cmds.Command) -> None:
        for name in PIPELINE:
            self.bus.send(bus_path(self.run_dir, name), cmd, wait_s=COMMAND_WAIT_S)

    def _on_bus(self, msg: cmds.Command) -> None:
        w = self.workers.get(getattr(msg, "worker", ""))
        if w is None:
            return
        now = time.monotonic()
        # A heartbeat counts from when it was sent (same monotonic clock): one that waited in the queue
        # while the worker stopped must not push the hang verdict later.
        w.life.beat(msg.t_ns / 1e9 if isinstance(msg, cmds.Heartbeat) else now)
        if isinstance(msg, cmds.Ready):
            # What a (re)start costs: the worker's setup is its models; the rest is Python and imports.
            start_ms, setup_ms = round((now - w.life.started_at) * 1000), msg.setup_ms
            log.info("%s ready %d ms after spawn (setup %s ms)", w.name, start_ms, setup_ms,
                     extra={"WORKER": w.name, "LATENCY_MS": start_ms})
            self.events.write({"event": Event.WORKER_READY, "turn": None, "t_ns": time.monotonic_ns(), "worker": w.name,
                               "start_ms": start_ms, "setup_ms": setup_ms})
            w.life.ready(now)
            if self.ready:
                self._restarted(w, now)
            elif all(x.life.state is State.RUNNING for x in self.workers.values()):
                self._all_ready()
        elif isinstance(msg, cmds.Status):
            w.status = msg.text
            log.info("%s: %s", w.name, w.status)
            if w.name != "face":
                self._tell_face(w.name, w.status, msg.problem)
        elif isinstance(msg, cmds.Report):
            self._on_event(msg.record())

    def _restarted(self, w: WorkerState, now: float) -> None:
        self.bus.send(bus_path(self.run_dir, w.name), cmds.Start(), wait_s=COMMAND_WAIT_S)
        down_ms = round((now - w.exited_at) * 1000) if w.exited_at is not None else None
        self.events.write({"event": Event.WORKER_RESTART, "turn": None, "t_ns": time.monotonic_ns(), "worker": w.name,
                           "restarts": w.life.restarts, "down_ms": down_ms})
        log.info("%s is back after %s ms (restart %d)", w.name, down_ms, w.life.restarts,
                 extra={"WORKER": w.name, "RESTARTS": w.life.restarts, "LATENCY_MS": down_ms})
        if w.name in ("ear", "face"):  # a restarted stage starts open: tell it what the schedule says
            self._tell(w.name, cmds.Opening(*self.opening))
        self._tell_face(w.name, "", False)
        if all(x.life.state is State.RUNNING for x in self.workers.values()):
            notify(STATUS="listening")

    def _all_ready(self) -> None:
        self.ready = True
        boot_ms = (time.monotonic_ns() - self._boot_ns) / 1e6
        self.events.write({"event": Event.READY, "turn": None, "t_ns": time.monotonic_ns(), "boot_ms": round(boot_ms)})
        for name in PIPELINE:
            self.bus.send(bus_path(self.run_dir, name), cmds.Start(), wait_s=COMMAND_WAIT_S)
        notify(READY="1", STATUS="listening")
        self._check_opening(force=True)

    def _on_event(self, ev: dict[str, Any]) -> None:
        self.events.write(ev)
        self.asked.on_event(ev)
        self._apply(self.turns.on_event(ev, time.monotonic()))

    # -- control requests --------------------------------------------------------------------
    def _to_brain(self, cmd: str, text: str) -> dict[str, Any]:
        """`say` (spoken verbatim) or `ask` (a typed question, routed and answered like a spoken one, which
        `answer` requests then follow) as a new turn that supersedes whatever is in flight."""
        turn = new_turn_id()
        self._apply(self.turns.interrupt(turn - 1, f"superseded by kioskctl {cmd}"))
        if cmd == "ask":
            self.asked.open(turn)
        request = cmds.Ask(turn, text) if cmd == "ask" else cmds.Say(turn, text)
        self.bus.send(bus_path(self.run_dir, "brain"), request, wait_s=COMMAND_WAIT_S)
        return {"ok": True, "turn": turn}

    def _on_request(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req["cmd"]
        if cmd == "status":
            now = time.monotonic()
            return {
                "ok": True,
                "ready": self.ready,
                "healthy": self.healthy(),
                "reason": self.unhealthy(),
                "site_file": str(self.site) if self.site else None,
                "release": release_of(self.site),
                "opening": {"open": self.opening[0], "note": self.opening[1]},
                "activity": self.turns.activity if self.opening[0] else "closed",
                "api": self.api.status(),
                "recent_turns": list(self.metrics.recent),
                "workers": [
                    {"name": w.name, "state": w.life.state.value, "pid": w.proc.pid, "restarts": w.life.restarts,
                     "status": w.life.reason if w.life.state in (State.BACKOFF, State.FATAL) else w.status,
                     "uptime_s": round(now - w.life.started_at, 1) if w.proc.poll() is None else 0.0}
                    for w in self.workers.values()
                ],
            }
        if cmd in ("say", "ask"):
            text = req.get("text")
            limit = 2000 if cmd == "say" else 500
            if not isinstance(text, str) or not text.strip():
                return {"ok": False, "error": f"{cmd} needs a non-empty 'text'"}
            if len(text) > limit:
                return {"ok": False, "error": f"text too long ({len(text)} characters, at most {limit})"}
            return self._to_brain(cmd, text.strip())
        if cmd == "answer":
            answer = self.asked.answer(int(req.get("turn") or 0))
            if answer is None:
                return {"ok": False, "error": f"no question was asked as turn {req.get('turn')!r}"}
            return {"ok": True, **answer}
        if cmd == "hear":
            path = Path(str(req.get("path", "")))
            if not path.is_absolute() or not path.is_file():
                return {"ok": False, "error": f"hear needs the absolute path of an audio file (got {str(path)!r})"}
            self.bus.send(bus_path(self.run_dir, "ear"), cmds.Hear(str(path)), wait_s=COMMAND_WAIT_S)
            return {"ok": True}
        if cmd == "reload":
            return self.reload()
        if cmd == "interrupt":
            self._apply(self.turns.interrupt(new_turn_id(), "interrupted by the operator"))
            return {"ok": True}
        if cmd == "screenshot":
            return self._screenshot()
        if cmd == "metrics":
            return {"ok": True, "text": self.metrics.text().decode()}
        return {"ok": False, "error": f"unknown command {cmd!r} (known: status, say, ask, answer, hear, reload, "
                                      "interrupt, screenshot, metrics)"}

    def _screenshot(self) -> dict[str, Any]:
        face = self.workers.get("face")
        if face is None or face.life.state is not State.RUNNING:
            return {"ok": False, "error": "the face is not running: nothing is on the screen to take"}
        self._screenshots += 1
        path = self.run_dir / f"screenshot-{self._screenshots}.png"
        self._tell("face", cmds.Screenshot(str(path)))
        return {"ok": True, "path": str(path)}

