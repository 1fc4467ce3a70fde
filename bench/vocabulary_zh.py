"""What putting the site's Chinese words back into Whisper's transcripts (models/vocabulary_zh.py) changes:
the Chinese routing set spoken by the Mandarin test voice, heard by Whisper base, then routed, without and
with the correction; and the real Mandarin recordings, which are not about a bank (it must leave them alone).

    python -m bench.vocabulary_zh [--json OUT]

Each half of the labelled set is reported on its own; the correction has nothing to tune.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.asr_languages import MANDARIN, cer, mandarin_audio
from bench.routing_bench import build_router, label, load_items
from bench.zh_voice import MandarinTestVoice
from daemon.config import MULTILINGUAL_ASR, load, resolve
from models.asr_whisper import WhisperAsr
from models.faq import load_dialogue, load_faq, site_texts
from models.vocabulary_zh import ChineseVocabulary

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "routing_questions_zh.yaml"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", type=Path, help="write the figures and every changed transcript here")
    args = p.parse_args(argv)
    brain = load().brain
    vocabulary = ChineseVocabulary(site_texts(load_faq(resolve(brain.faq)), load_dialogue(resolve(brain.dialogue))))
    asr, voice, router = WhisperAsr(MULTILINGUAL_ASR, "zh"), MandarinTestVoice(), build_router()
    out: dict[str, Any] = {"words": len(vocabulary.by_sound), "halves": {}, "changed": [], "recordings": {}}
    items = [i for i in load_items(QUESTIONS) if i.kind != "followup"]
    for split in ("tune", "holdout"):
        rows = []
        for item in (i for i in items if i.split == split):
            heard = asr.transcribe(voice.synthesize(item.q)).text
            fixed = vocabulary.correct(heard)
            routed = [label(router, router.route(text, None, "zh")) in item.expect for text in (heard, fixed)]
            rows.append((cer(item.q, heard), cer(item.q, fixed), *routed))
            if fixed != heard:
                out["changed"].append({"split": split, "said": item.q, "heard": heard, "written": fixed})
        n = len(rows)
        out["halves"][split] = {
            "n": n, "cer_heard": round(sum(r[0] for r in rows) / n, 4), "cer_written": round(sum(r[1] for r in rows) / n, 4),
            "routed_right_heard": sum(r[2] for r in rows), "routed_right_written": sum(r[3] for r in rows)}
    for clip in MANDARIN:
        heard = asr.transcribe(mandarin_audio(clip)).text
        out["recordings"][clip.name] = {"cer_heard": round(cer(clip.transcript, heard), 4),
                                        "cer_written": round(cer(clip.transcript, vocabulary.correct(heard)), 4)}
    print(f"{out['words']} site words; mean CER, heard -> written; routed right, heard -> written")
    for split, h in out["halves"].items():
        print(f"  {split:8s} {h['n']:3d} questions  CER {h['cer_heard']:.3f} -> {h['cer_written']:.3f}  "
              f"routed right {h['routed_right_heard']} -> {h['routed_right_written']}")
    for name, r in out["recordings"].items():
        print(f"  recording {name}: CER {r['cer_heard']:.3f} -> {r['cer_written']:.3f}")
    for c in out["changed"]:
        print(f"  [{c['split']}] said {c['said']}  heard {c['heard']}  written {c['written']}")
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
