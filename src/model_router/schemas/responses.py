"""The OpenAI Responses request (`POST /v1/responses`), validated just enough
to translate it: the fields and item types of OpenAI's `CreateResponse`
(`openai.types.responses.ResponseCreateParams`).

Every model allows unknown fields, so a newer field passes validation. An
input item of a type not listed here (`custom_tool_call`, `local_shell_call`,
`web_search_call`, `mcp_call`, ...) validates as `OtherItem`, a content part
of another type (`input_audio`, ...) as `OtherPart`, and a tool whose `type`
is not "function" (`web_search`, `file_search`, `code_interpreter`, `mcp`,
`custom`, ...) as `BuiltinTool`: all kept whole, for an OpenAI upstream only.

A string `input` is one user message; a string message `content` (or
function call `output`) is one text part; an item without `type` but with a
`role` is a message (OpenAI's "easy input message"). So code past validation
sees lists of items and parts only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag

from model_router.schemas.tagged import Open, by_type


def _message_if_string(value: Any) -> Any:
    """A string `input` is one user message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise ValueError("must be a string or a list of input items")
    return value


def _text_if_string(value: Any) -> Any:
    """A string stands for one text part."""
    if isinstance(value, str):
        return [{"type": "input_text", "text": value}]
    if not isinstance(value, list):
        raise ValueError("must be a string or a list of content parts")
    return value


# --- content parts ---------------------------------------------------------------


class InputText(Open):
    type: Literal["input_text"]
    text: str


class OutputText(Open):
    """An earlier answer's text, sent back in an assistant message."""

    type: Literal["output_text"]
    text: str


class Refusal(Open):
    type: Literal["refusal"]
    refusal: str


class InputImage(Open):
    """An image by URL (a data URL for inline bytes) or by uploaded file id."""

    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["auto", "low", "high", "original"] | None = None


class InputFile(Open):
    """A file inline (`file_data`, a data URL or base64), by URL, or by id."""

    type: Literal["input_file"]
    file_data: str | None = None
    file_url: str | None = None
    file_id: str | None = None
    filename: str | None = None


class OtherPart(Open):
    """A content part this router does not translate (`input_audio`, ...)."""

    type: str


PART_TYPES = frozenset({"input_text", "output_text", "refusal", "input_image", "input_file"})

ContentPart = Annotated[
    Annotated[InputText, Tag("~input_text")]
    | Annotated[OutputText, Tag("~output_text")]
    | Annotated[Refusal, Tag("~refusal")]
    | Annotated[InputImage, Tag("~input_image")]
    | Annotated[InputFile, Tag("~input_file")]
    | Annotated[OtherPart, Tag("~other")],
    by_type(PART_TYPES, "~other"),
]
Content = Annotated[list[ContentPart], BeforeValidator(_text_if_string)]


# --- input items -----------------------------------------------------------------


class MessageItem(Open):
    """A turn: "developer" and "system" both mean instructions, in place."""

    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: Content
    id: str | None = None
    status: str | None = None


class FunctionCallItem(Open):
    """A call the model made earlier, sent back by the client."""

    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(Open):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: Content
    id: str | None = None
    status: str | None = None


class SummaryText(Open):
    type: Literal["summary_text"] = "summary_text"
    text: str


class ReasoningText(Open):
    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class ReasoningItem(Open):
    """Earlier thinking: its summary, its full text (`content`, from models
    that show it), and `encrypted_content` (what a stateless client sends
    back when it asked for `include: ["reasoning.encrypted_content"]`)."""

    type: Literal["reasoning"]
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list)
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None


class ItemReference(Open):
    """An item of a stored response, by id."""

    type: Literal["item_reference"]
    id: str = Field(min_length=1)


class OtherItem(Open):
    """An item type this router does not translate; kept whole."""

    type: str


ITEM_TYPES = frozenset(
    {"message", "function_call", "function_call_output", "reasoning", "item_reference"}
)


def _item_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None and isinstance(value, dict) and "role" in value:
        kind = "message"
    return f"~{kind}" if kind in ITEM_TYPES else "~other"


InputItem = Annotated[
    Annotated[MessageItem, Tag("~message")]
    | Annotated[FunctionCallItem, Tag("~function_call")]
    | Annotated[FunctionCallOutputItem, Tag("~function_call_output")]
    | Annotated[ReasoningItem, Tag("~reasoning")]
    | Annotated[ItemReference, Tag("~item_reference")]
    | Annotated[OtherItem, Tag("~other")],
    Discriminator(_item_kind),
]


# --- tools -----------------------------------------------------------------------


class FunctionTool(Open):
    type: Literal["function"]
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,128}$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class BuiltinTool(Open):
    """A tool OpenAI defines or runs (`web_search`, `file_search`, `mcp`,
    `code_interpreter`, `image_generation`, `computer_use_preview`,
    `local_shell`, `custom`, ...)."""

    type: str = Field(min_length=1)
    name: str | None = None


def _tool_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "~function" if kind == "function" else "~builtin"


ToolParam = Annotated[
    Annotated[FunctionTool, Tag("~function")] | Annotated[BuiltinTool, Tag("~builtin")],
    Discriminator(_tool_kind),
]


class ToolChoiceFunction(Open):
    type: Literal["function", "custom"]
    name: str = Field(min_length=1)


class ToolChoiceAllowed(Open):
    """Only some of the tools, `mode` "auto" or "required"."""

    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class ToolChoiceBuiltin(Open):
    """A built-in tool the model must use (`{"type": "web_search"}`, ...)."""

    type: str = Field(min_length=1)


def _choice_kind(value: Any) -> str:
    if isinstance(value, str):
        return "~mode"
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind in ("function", "custom"):
        return "~function"
    return "~allowed_tools" if kind == "allowed_tools" else "~builtin"


ToolChoice = Annotated[
    Annotated[Literal["auto", "none", "required"], Tag("~mode")]
    | Annotated[ToolChoiceFunction, Tag("~function")]
    | Annotated[ToolChoiceAllowed, Tag("~allowed_tools")]
    | Annotated[ToolChoiceBuiltin, Tag("~builtin")],
    Discriminator(_choice_kind),
]


# --- text format, reasoning ------------------------------------------------------


class FormatText(Open):
    type: Literal["text"]


class FormatJSONObject(Open):
    type: Literal["json_object"]


class FormatJSONSchema(Open):
    type: Literal["json_schema"]
    name: str = Field(min_length=1)
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


class _UnknownFormat(Open):
    type: Literal["text", "json_object", "json_schema"]  # fails, naming the types allowed


TextFormat = Annotated[
    Annotated[FormatText, Tag("~text")]
    | Annotated[FormatJSONObject, Tag("~json_object")]
    | Annotated[FormatJSONSchema, Tag("~json_schema")]
    | Annotated[_UnknownFormat, Tag("~unknown")],
    by_type(frozenset({"text", "json_object", "json_schema"}), "~unknown"),
]


class TextConfig(Open):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningParam(Open):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


# --- the request -----------------------------------------------------------------


class ResponsesRequest(Open):
    """`POST /v1/responses`."""

    model: str = Field(min_length=1)
    input: Annotated[list[InputItem], BeforeValidator(_message_if_string)] = Field(
        default_factory=list
    )
    instructions: str | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    reasoning: ReasoningParam | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    store: bool | None = True
    previous_response_id: str | None = None
    stream: bool | None = None
    include: list[str] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    service_tier: str | None = None
