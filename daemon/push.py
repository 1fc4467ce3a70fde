"""`kioskctl push HOST`: a new configuration for a kiosk, over the operator's own OpenSSH (their ssh config,
keys and agent apply), as a release (daemon/releases.py) that is kept only if the kiosk is healthy with it:

  1. check locally what is pushed (config schema, FAQ loads, persona reads, portrait has one face);
  2. upload the changed files into a new release, carrying unchanged ones over from the current one;
  3. the kiosk validates the release with its own kioskctl (models included) and seals it;
  4-7. on the kiosk, in one step that finishes even if this push is killed (`kioskctl release activate`):
     switch `current` to it (one rename), reload, the health gate (healthy for --healthy-s with no worker
     restarting, then its FAQ's first question answered from the FAQ), and keep it or go back to the last
     release that passed its gate;
  8. prune old releases. The exit code says what happened (0, REFUSED, ROLLED_BACK, STUCK).

With --hosts, kiosks go --batch at a time and the push stops after the first batch with a failure."""

from __future__ import annotations

import argparse
import io
import json
import posixpath
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex
from typing import Any

import yaml

from daemon import config as config_mod
from daemon.cli_release import DEFAULT_ROOT
from daemon.portrait_check import check_portrait
from daemon.releases import CONFIG, ROLE_KEYS, ReleaseError, file_name
from daemon.site_check import check_faq, check_persona

# Exit codes: nothing changed on the kiosk / the new release failed its gate and was undone / no good report
# came back from the kiosk (the way back failed too, or the connection dropped): someone must look.
REFUSED, ROLLED_BACK, STUCK = 1, 3, 4
STEP_TIMEOUT_S = 180.0


class PushError(RuntimeError):
    """A push that stopped; the message says where and why."""


@dataclass
class Ssh:
    host: str
    root: str
    kioskctl: str = "kioskctl"
    config: Path | None = None
    options: list[str] = field(default_factory=list)

    def run(self, *args: str, stdin: bytes | None = None, timeout: float = STEP_TIMEOUT_S) -> str:
        """Run the kiosk's kioskctl with `args`; its stdout, or PushError with its last stderr line."""
        cmd = ["ssh", "-o", "BatchMode=yes", *(["-F", str(self.config)] if self.config else []),
               *(x for opt in self.options for x in ("-o", opt)), "--", self.host, shlex.join([self.kioskctl, *args])]
        try:
            proc = subprocess.run(cmd, input=stdin or b"", capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PushError(f"kioskctl {args[0]} on {self.host} took over {timeout:.0f} s") from None
        if proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            why = lines[-1] if lines else f"exit {proc.returncode}"
            if proc.returncode == 255:
                why = f"ssh failed: {why}"
            raise PushError(why)
        return proc.stdout.decode()

    def release(self, *args: str, stdin: bytes | None = None, timeout: float = STEP_TIMEOUT_S) -> dict[str, Any]:
        out = self.run("release", "--root", self.root, *args, stdin=stdin, timeout=timeout).strip().splitlines()
        try:
            reply: dict[str, Any] = json.loads(out[-1])
        except (IndexError, ValueError):
            raise PushError(f"kioskctl release {args[0]} on {self.host} answered {out[-1:]!r}, not JSON: is "
                            "--remote-kioskctl a kioskctl of this version?") from None
        return reply


@dataclass
class Change:
    """What a push brings; None: keep what the kiosk has."""

    config: Path | None = None
    faq: Path | None = None
    persona: Path | None = None
    portrait: Path | None = None

    def files(self) -> dict[str, Path]:
        """role -> local file, for the files pushed besides the config."""
        return {role: path for role in ROLE_KEYS if (path := getattr(self, role)) is not None}


def check_locally(change: Change) -> list[str]:
    """Before anything is sent: each pushed file as the kiosk will load it. config_mod.ConfigError names the
    file and what is wrong; the notes are warnings."""
    if change.config is None and not change.files():
        raise config_mod.ConfigError("nothing to push: give --config, --faq, --persona or --portrait")
    if change.config is not None:
        config_mod.load(site=change.config)
    if change.faq is not None:
        check_faq(change.faq, "--faq")
    if change.persona is not None:
        check_persona(change.persona, "--persona")
    if change.portrait is not None:
        try:
            file_name("portrait", change.portrait)
        except ReleaseError as exc:
            raise config_mod.ConfigError(f"--portrait {exc}") from None
    return check_portrait(str(change.portrait)) if change.portrait is not None else []


def plan(change: Change, current: dict[str, Any], root: str) -> tuple[str, dict[str, Path], list[str]]:
    """The new release: its config's text, the files to upload (name -> local path) and the names carried
    over from the current release (unchanged files, those the new config does not name, and those it names
    as the current release's, as in a config downloaded from the kiosk and edited). The
    config names each file through `current`, by its content (daemon/releases.py)."""
    user = yaml.safe_load(change.config.read_text(encoding="utf-8")) if change.config else None
    data: dict[str, Any] = user if user is not None else yaml.safe_load(current["config"] or "") or {}
    upload: dict[str, Path] = {}
    carry: list[str] = []
    pushed = change.files()
    prefix = f"{root.rstrip('/')}/current/"
    for role, (section, key) in ROLE_KEYS.items():
        if role in pushed:
            name = file_name(role, pushed[role])
            if name in current["files"]:
                carry.append(name)
            else:
                upload[name] = pushed[role]
        else:
            held = next((n for n in current["files"] if n.startswith(f"{role}-")), None)
            named = (user.get(section) or {}).get(key) if user is not None else None
            if held is None or (named is not None and named != f"{prefix}{held}"):
                continue  # nothing to keep, or the new config names a file of its own (or a packaged one)
            name = held
            carry.append(name)
        data.setdefault(section, {})[key] = f"{prefix}{name}"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True), upload, carry


def _tar(config_text: str, upload: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, data in [(CONFIG, config_text.encode()), *((n, p.read_bytes()) for n, p in upload.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def push(ssh: Ssh, change: Change, healthy_s: float, reload_timeout_s: float, say: Any = print) -> int:
    """One kiosk; the exit code (0, REFUSED, ROLLED_BACK or STUCK). `say` reports each step."""
    current = ssh.release("show")
    if current["current"] is None and change.config is None:
        raise PushError("the kiosk has no release yet: its first push needs --config (the whole site config), "
                        "or the kiosk's hand-written settings would be dropped")
    rid = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{token_hex(3)}"
    config_text, upload, carry = plan(change, current, ssh.root)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as f:
        f.write(config_text)
        f.flush()
        config_mod.load(site=Path(f.name))  # the merged config, before it leaves this machine
    say(f"release {rid}: uploading {', '.join([CONFIG, *upload])}" + (f"; keeping {', '.join(carry)}" if carry else ""))
    ssh.release("receive", rid, stdin=_tar(config_text, upload))
    if carry:
        ssh.release("carry", rid, *carry)
    for note in ssh.release("seal", rid)["notes"]:
        say(f"warning: {note}")
    say(f"release {rid} sealed; activating it (switch, reload, health gate)")
    try:
        # Two reloads (60 s each to answer, then the wait), the healthy time and up to GATE_ASKS questions.
        result = ssh.release("activate", rid, "--healthy-s", f"{healthy_s:g}", "--reload-timeout",
                             f"{reload_timeout_s:g}", timeout=healthy_s + 2 * (reload_timeout_s + 60) + 180)
    except PushError as exc:  # it failed and could not go back, or its report was lost on the way
        say(f"FAILED: no good report from activating {rid} ({exc}); look at that kiosk: `kioskctl status` "
            "names the release it runs")
        return STUCK
    if result["outcome"] == "rolled_back":
        back = result["current"] or "the kiosk's own site file (no release had passed its gate)"
        say(f"FAILED the health gate: {result['reason']}; rolled back to {back}")
        return ROLLED_BACK
    say(f"kept {rid} (was {result['previous'] or 'none'}): healthy for {result['healthy_s']:g} s, "
        f"{result['question']!r} answered from the FAQ in {result['first_sentence_ms']} ms")
    try:
        pruned = ssh.release("prune")["pruned"]
    except PushError as exc:
        say(f"warning: old releases not pruned: {exc}")
        return 0
    if pruned:
        say(f"pruned {', '.join(pruned)}")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("push", help="push a new configuration to kiosks over SSH, keeping it only if healthy",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("host", nargs="?", help="the kiosk (an ssh destination, or an alias from your ssh config)")
    p.add_argument("--hosts", type=Path, help="a file of kiosks, one per line (# comments), instead of HOST")
    p.add_argument("--batch", type=int, default=1, help="kiosks pushed at once with --hosts (default 1)")
    p.add_argument("--config", type=Path, help="the site config (kioskd.yaml); default: the kiosk's current one")
    p.add_argument("--faq", type=Path, help="FAQ file (brain.faq)")
    p.add_argument("--persona", type=Path, help="persona prompt (brain.persona)")
    p.add_argument("--portrait", type=Path, help="portrait image (face.portrait)")
    p.add_argument("--remote-root", default=str(DEFAULT_ROOT), help="the releases' root on the kiosk (default "
                   "/etc/kioskd; kioskd reads ROOT/current/kioskd.yaml)")
    p.add_argument("--remote-kioskctl", default="kioskctl", help="kioskctl's path on the kiosk (default: kioskctl)")
    p.add_argument("--ssh-config", type=Path, help="passed to ssh as -F FILE")
    p.add_argument("--ssh-option", action="append", default=[], metavar="OPT", help="passed to ssh as -o OPT")
    p.add_argument("--healthy-s", type=float, default=10.0, help="seconds the kiosk must stay healthy (default 10)")
    p.add_argument("--reload-timeout", type=float, default=120.0, help="seconds the reload may take (default 120)")


def run(args: argparse.Namespace) -> int:
    change = Change(args.config, args.faq, args.persona, args.portrait)
    hosts = _hosts(args)
    if not posixpath.isabs(args.remote_root):
        print(f"kioskctl push: --remote-root must be an absolute path (got {args.remote_root!r})", file=sys.stderr)
        return REFUSED
    try:
        for note in check_locally(change):
            print(f"warning: {note}")
    except config_mod.ConfigError as exc:
        print(f"kioskctl push: refused before upload, no kiosk was changed:\n{exc}", file=sys.stderr)
        return REFUSED
    batch = max(1, args.batch)
    for start in range(0, len(hosts), batch):
        group = hosts[start:start + batch]
        with ThreadPoolExecutor(len(group)) as pool:
            codes = list(pool.map(lambda h: _one(h, args, change), group))
        failed = [h for h, code in zip(group, codes, strict=True) if code]
        if failed:
            left = hosts[start + batch:]
            print(f"kioskctl push: failed on {', '.join(failed)}" + (f"; not pushed: {', '.join(left)}" if left else ""),
                  file=sys.stderr)
            return max(codes)
    return 0


def _one(host: str, args: argparse.Namespace, change: Change) -> int:
    ssh = Ssh(host, posixpath.normpath(args.remote_root), args.remote_kioskctl, args.ssh_config, args.ssh_option)

    def say(text: str) -> None:
        print(f"{host}: {text}", flush=True)

    try:
        return push(ssh, change, args.healthy_s, args.reload_timeout, say)
    except (PushError, config_mod.ConfigError) as exc:
        say(f"FAILED: {exc}")
        return REFUSED


def _hosts(args: argparse.Namespace) -> list[str]:
    if (args.host is None) == (args.hosts is None):
        raise SystemExit("kioskctl push: give one HOST or --hosts FILE")
    if args.host is not None:
        return [str(args.host)]
    try:
        lines = args.hosts.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SystemExit(f"kioskctl push: --hosts {args.hosts}: {exc.strerror}") from None
    hosts = list(dict.fromkeys(h for line in lines if (h := line.split("#")[0].strip())))  # each kiosk once
    if not hosts:
        raise SystemExit(f"kioskctl push: --hosts {args.hosts} names no kiosk")
    return hosts
