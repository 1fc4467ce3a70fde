"""Compare LLMs on the questions that reach one: first checked sentence, whole reply, and what survives the check.

    python -m bench.llm_bench [--model NAME=PATH ...] [--load face|none] [--json OUT.json]

Each model gets the kiosk's own grounded conversation (models/llm_prompt.py, its system message
evaluated ahead as in the brain) for the labelled set's questions a grounded answer may serve, the
in-domain ones the FAQ does not answer, and the follow-ups (each after its question and that question's
FAQ answer). Every reply goes through the brain's reply check. Latency is from the question to the first
checked sentence and to the reply's end, measured while `bench.face_load` renders and records the face
beside it (--load face, the default), as the brain meets it in the kiosk. Replies are printed for a
person to judge: a reply that passes the check can still be unhelpful.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.routing_bench import build_router, load_items
from bench.stats import pct
from daemon.config import load, resolve
from models.llm_llama import LlamaLlm
from models.llm_prompt import SCAFFOLD, messages
from models.registry import resolve as resolve_model
from models.reply_check import ReplyChecker, checked_sentences

KINDS = ("grounded", "followup", "unanswerable")


def _models(specs: list[str]) -> dict[str, Path]:
    if not specs:  # the configured model
        setting = load().brain.llm.model or "embedded:gemma3-270m"
        return {setting.removeprefix("embedded:"): resolve_model(setting, "brain.llm.model")}
    out = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        out[name] = Path(path or name)
    return out


def run_model(name: str, path: Path, threads: int, show_holdout: bool = False) -> dict[str, Any]:
    c = load().brain
    router = build_router()
    persona = resolve(c.persona).read_text(encoding="utf-8")
    facts = [e.answer for e in router.faq]
    checker = ReplyChecker(persona, SCAFFOLD)
    t0 = time.monotonic()
    llm = LlamaLlm(path, c.llm.context, threads)
    llm.warm(messages(persona, facts, "Hello", []))
    warm_s = time.monotonic() - t0
    rows = []
    for item in load_items():
        if item.kind not in KINDS:
            continue
        # As the brain asks: a follow-up as the question it was routed as (joined to the one before), the
        # answer before it one of the facts.
        d = router.route(item.q, item.after)
        earlier = [router.route(item.after).answer or ""] if item.after and d.follow_up else []
        nearest = d.nearest or [0, 1, 2]
        chat = messages(persona, facts, d.question, nearest)
        given = [facts[i] for i in nearest] + earlier
        rejected: list[str] = []
        start = time.monotonic()
        first_ms = None
        said = []
        for sentence in checked_sentences(llm.stream(chat, c.llm.max_tokens, c.llm.temperature), checker, given,
                                          item.q, rejected.append):
            if first_ms is None:
                first_ms = (time.monotonic() - start) * 1000
            said.append(sentence)
        total_ms = (time.monotonic() - start) * 1000
        rows.append({"q": item.q, "kind": item.kind, "split": item.split, "said": " ".join(said),
                     "rejected": rejected[0] if rejected else None, "first_ms": first_ms, "total_ms": round(total_ms)})
        if item.split == "tune" or show_holdout:  # the holdout half is counted, not read
            print(f"  [{item.split}/{item.kind}] {item.q}\n    -> {' '.join(said) or '(referral)'}"
                  + (f"   [rejected: {rejected[0]}]" if rejected else "")
                  + f"   ({first_ms or 0:.0f} / {total_ms:.0f} ms)", flush=True)
    firsts = [r["first_ms"] for r in rows if r["first_ms"] is not None]
    totals = [r["total_ms"] for r in rows]
    summary = {"model": name, "path": str(path), "chat_template": llm.chat, "warm_s": round(warm_s, 1),
               "replies": len(rows), "spoken": len(firsts),
               "rejected": sum(r["rejected"] is not None for r in rows),
               "first_sentence_ms": pct(firsts), "reply_ms": pct(totals),
               # What the visitor waits for: the first checked sentence, or the referral line once the reply fails.
               "first_heard_ms": pct([r["first_ms"] if r["first_ms"] is not None else r["total_ms"] for r in rows])}
    return {"summary": summary, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", default=[], metavar="NAME=PATH", help="a GGUF to compare (repeatable)")
    p.add_argument("--load", choices=("face", "none"), default="face")
    p.add_argument("--threads", type=int, default=load().brain.llm.threads)
    p.add_argument("--json", type=Path, metavar="OUT.json")
    p.add_argument("--show-holdout", action="store_true", help="also print the holdout half's replies")
    args = p.parse_args(argv)
    results = []
    for name, path in _models(args.model).items():
        print(f"== {name} ({path})", flush=True)
        face = (subprocess.Popen([sys.executable, "-m", "bench.face_load", "--seconds", "3600"])
                if args.load == "face" else None)
        try:
            results.append(run_model(name, path, args.threads, args.show_holdout))
        finally:
            if face is not None:
                face.terminate()
                face.wait()
    print(f"\n{'model':24} {'tmpl':5} {'spoken':>7} {'rejected':>8} {'first p50/p95 ms':>17} {'reply p50/p95 ms':>17}")
    for r in results:
        s = r["summary"]
        first, reply = s["first_sentence_ms"] or {"p50": 0, "p95": 0}, s["reply_ms"]
        print(f"{s['model']:24} {'yes' if s['chat_template'] else 'no':5} {s['spoken']:>3}/{s['replies']:<3} "
              f"{s['rejected']:>8} {first['p50']:>8.0f}/{first['p95']:<8.0f} {reply['p50']:>8.0f}/{reply['p95']:<8.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
