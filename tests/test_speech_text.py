"""Figures are written out as an English speaker says them before synthesis; letters a voice cannot read are found."""

from __future__ import annotations

import pytest

from models.speech_text import speakable, unreadable


@pytest.mark.parametrize(("written", "said"), [
    ("We open at 9:30.", "We open at nine thirty."),
    ("We open at 9:00.", "We open at nine o'clock."),
    ("It starts at 10:05 a.m. tomorrow.", "It starts at ten oh five a m tomorrow."),
    ("We close at 5pm.", "We close at five p m."),
    ("Open at 9 a.m. Come early.", "Open at nine a m. Come early."),
    ("It costs $3.50.", "It costs three dollars fifty."),
    ("A ticket is £12, or €1.", "A ticket is twelve pounds, or one euro."),
    ("Only $0.50.", "Only fifty cents."),
    ("Rates start at 5.9%.", "Rates start at five point nine percent."),
    ("It pays 2.5 percent.", "It pays two point five percent."),
    ("The machines work 24/7.", "The machines work twenty-four seven."),
    ("On the 2nd floor.", "On the second floor."),
    ("See you on 2026-03-12.", "See you on March twelfth, twenty twenty-six."),
    ("Call 0800 123 4567.", "Call oh eight oh oh, one two three, four five six seven."),
    ("Since 2019.", "Since twenty nineteen."),
    ("Desk 2 and counter 4.", "Desk two and counter four."),
    ("We have 1,200 members.", "We have one thousand, two hundred members."),
    ("No figures here.", "No figures here."),
])
def test_figures_are_spoken(written: str, said: str) -> None:
    assert speakable(written) == said


def test_no_digit_survives() -> None:
    text = "Open 9:30-5pm, $4.99 or 3%, desk 12, 2024-01-31, call +44 20 7946 0958, the 21st, 24/7."
    assert not any(ch.isdigit() for ch in speakable(text)), speakable(text)


@pytest.mark.parametrize("text", ["Aloha from Hawaiʻi.", "I don’t know.", "Theyʼre here.", "A hair is 70 µm wide.",
                                  "Use a 10 k\u2126 resistor.",  # the ohm sign, not the Greek capital omega
                                  "Ｆｕｌｌ width, café, naïve, Øresund."])
def test_an_english_voice_reads_modifier_letters_and_unit_signs(text: str) -> None:
    assert unreadable(text, "en-us") == []


@pytest.mark.parametrize(("text", "letters"), [
    ("Say 你好 to µ.", ["你", "好"]),
    ("Привет, Hawaiʻi.", ["П", "р", "и", "в", "е", "т"]),
    ("π ≈ 3.14", ["π"]),  # a Greek letter, not a unit's sign
])
def test_an_english_voice_cannot_read_other_scripts(text: str, letters: list[str]) -> None:
    assert unreadable(text, "en-us") == letters


@pytest.mark.parametrize(("written", "said"), [
    ("取款手续费¥3.50。", "取款手续费三元五角。"),
    ("年费3.50元，工本费100元。", "年费三元五角，工本费一百元。"),
    ("只要¥0.50，或3.05元。", "只要五角，或三元零五分。"),
    ("每笔2元。", "每笔两元。"),
    ("限额¥12.5万，存50000元以上。", "限额十二点五万元，存五万元以上。"),
    ("汇款$3.50。", "汇款三点五美元。"),
    ("我们9:30开门。", "我们九点半开门。"),
    ("营业时间9:00-17:30。", "营业时间九点到十七点半。"),
    ("周六9：05到2:15。", "周六九点零五分到两点十五分。"),
    ("2026年12月3日起，12月3日。", "二零二六年十二月三日起，十二月三日。"),
    ("2026-12-03开业。", "二零二六年十二月三日开业。"),
    ("年利率2.5%，手续费0.35%。", "年利率百分之二点五，手续费百分之零点三五。"),
    ("客服热线400-820-8820。", "客服热线四零零，八二零，八八二零。"),
    ("请拨打95588。", "请拨打九五五八八。"),
    ("总机010-12345678。", "总机零幺零，幺二三四五六七八。"),
    ("自助服务24/7，柜台7×24小时。", "自助服务全天候，柜台七乘二十四小时。"),
    ("已服务1,234,567人。", "已服务一百二十三万四千五百六十七人。"),
    ("第2个窗口在2楼，需要2个工作日。", "第二个窗口在二楼，需要两个工作日。"),
    ("一般3-5个工作日。", "一般三到五个工作日。"),
    ("请到ATM机取款，VIP客户请到２楼。", "请到A-T-M机取款，V-I-P客户请到二楼。"),
    ("请连接WiFi。", "请连接WiFi。"),
    ("没有数字。", "没有数字。"),
])
def test_chinese_figures_are_spoken(written: str, said: str) -> None:
    assert speakable(written, "zh") == said


def test_no_digit_survives_in_chinese() -> None:
    text = "营业时间9:30-17:00，¥4.99或3%，12号窗口，2026-01-31，热线+86 10 6559 8888，24/7，共1,200人，95566。"
    assert not any(ch.isdigit() for ch in speakable(text, "zh")), speakable(text, "zh")


def test_a_chinese_voice_reads_chinese_and_latin() -> None:
    assert unreadable("请到ATM机取款，您好。", "cmn") == []
    assert unreadable("こんにちは", "cmn") == ["こ", "ん", "に", "ち", "は"]
