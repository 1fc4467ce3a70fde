"""The mood a reply sentence is said with, for the face to show: a smile for greetings, thanks and good
news, concern for apologies and trouble, neutral otherwise.

Read from the sentence's own words, English or Chinese, so FAQ answers, small talk, the referral line and LLM replies of any
profile all get one. Concern wins within a sentence: "I'm afraid we can't, but I'm happy to help" is not
said with a grin.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Mood(StrEnum):
    NEUTRAL = "neutral"
    SMILE = "smile"
    CONCERN = "concern"


_CONCERN = re.compile(
    r"\b(sorry|afraid|unfortunately|apolog\w*|regret\w*|lost|stolen|theft|fraud\w*|not sure|cannot|can't|"
    r"unable|problem\w*|emergency|urgent\w*|block(?:ed)?|cancel\w*|closed)\b"
    # Chinese has no word boundaries: these are found anywhere in the sentence.
    r"|抱歉|对不起|很遗憾|不好意思|恐怕|不太清楚|丢失|丢了|被盗|被偷|诈骗|冻结|挂失|无法|不能|紧急|关门|已关闭", re.IGNORECASE)
_NO_TROUBLE = re.compile(r"\b(no problem|not a problem|no worries)\b|没问题|不客气", re.IGNORECASE)  # friendly, not sorry
_SMILE = re.compile(
    r"\b(hello|hi|welcome|glad|pleasure|pleased|thanks?|thank you|great|happy|enjoy\w*|goodbye|bye|wonderful|"
    r"lovely|delighted|good (?:morning|afternoon|evening|day)|free)\b"
    r"|您好|你好|欢迎|谢谢|感谢|很高兴|乐意|再见|祝您|愉快|免费|早上好|下午好|晚上好", re.IGNORECASE)


def mood_of(sentence: str) -> Mood:
    sentence = sentence.replace("\u2019", "'")  # "can’t" as typographers and LLMs write it
    if _NO_TROUBLE.search(sentence):
        return Mood.SMILE
    if _CONCERN.search(sentence):
        return Mood.CONCERN
    if _SMILE.search(sentence):
        return Mood.SMILE
    return Mood.NEUTRAL
