"""Task-class features of a neutral request: cheap, deterministic, documented."""

from __future__ import annotations

import pytest

from model_router.domain.content import Image, Message, Text, ToolResult
from model_router.domain.request import OutputFormat, Request, Tool
from model_router.routing.learned.features import features_of, script_of, size_bucket


def _user(text: str, *extra: Image) -> Message:
    return Message("user", [Text(text), *extra])


def test_a_plain_question_is_a_small_latin_text_chat_of_one_turn() -> None:
    request = Request(model="p", messages=[Message("system", [Text("Be brief.")]), _user("Hi!")])
    features = features_of(request)
    assert features.task_class() == (
        "size=xs,tools=no,images=no,output=text,code=no,turns=1,script=latin"
    )
    assert features.as_dict()["prompt_tokens"] == features.prompt_tokens == 3


def test_tools_images_schema_and_turns_are_seen() -> None:
    messages = [
        _user("What is in this picture?", Image(url="https://example.com/a.png")),
        Message("assistant", [Text("A cat.")]),
        Message("tool", [ToolResult("t1", [Image(data="aGk=", media_type="image/png")])]),
    ]
    request = Request(
        model="p",
        messages=messages,
        tools=[Tool(name="lookup")],
        output_format=OutputFormat(type="json_schema", schema={"type": "object"}),
    )
    features = features_of(request)
    assert (features.tools, features.images, features.output, features.turns) == (
        True,
        True,
        "schema",
        "2-5",
    )
    assert features.size == "m"  # two images at 765 tokens each


def test_json_mode_is_json_and_not_schema() -> None:
    request = Request(
        model="p", messages=[_user("List three colours")], output_format=OutputFormat("json_object")
    )
    assert features_of(request).output == "json"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("```\nprint(1)\n```", True),
        ("def add(a, b):\n    return a + b", True),
        ("int main() {\n  return 0;\n}", True),
        ("SELECT name FROM users WHERE id = 1", True),
        ("First line;\nsecond line;\nthird", True),
        ("from Paris we drove south.\nreturn trips were cheap.", False),
        ("Please write a haiku about autumn; make it sad.", False),
        ("Tell me about the class system in Victorian England.", False),
    ],
)
def test_code_is_recognised_in_the_prompt(text: str, code: bool) -> None:
    assert features_of(Request(model="p", messages=[_user(text)])).code is code


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Hello, how are you?", "latin"),
        ("Ça va très bien, merci", "latin"),
        ("请把这段文字翻译成英文", "cjk"),
        ("日本語のテキストです", "cjk"),
        ("안녕하세요 반갑습니다", "cjk"),
        ("Привет, как дела?", "cyrillic"),
        ("مرحبا كيف حالك", "arabic"),
        ("שלום מה שלומך", "other"),
        ("12345 !!!", "other"),
        ("Translate: 你好世界，这是一个测试句子", "cjk"),
    ],
)
def test_the_script_is_the_one_most_letters_are_in(text: str, script: str) -> None:
    assert script_of(text) == script


def test_the_script_is_that_of_the_last_user_message() -> None:
    request = Request(
        model="p",
        messages=[_user("Привет"), Message("assistant", [Text("Hi")]), _user("Now in English")],
    )
    assert features_of(request).script == "latin"


def test_size_buckets_have_documented_bounds() -> None:
    assert [size_bucket(n) for n in (0, 255, 256, 1023, 1024, 4096, 16383, 16384)] == [
        "xs",
        "xs",
        "s",
        "s",
        "m",
        "l",
        "l",
        "xl",
    ]


def test_a_class_can_use_a_subset_of_features() -> None:
    features = features_of(Request(model="p", messages=[_user("def f(): pass")]))
    assert features.task_class(("code", "script")) == "code=yes,script=latin"
