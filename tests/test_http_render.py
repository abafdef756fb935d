"""An HTTP request template renders only the parts whose values changed, and gives what a template
rendering everything anew gives, whatever the values and their order.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.channels.httptemplate import RequestTemplate, automatic_headers

BLOCK = {
    "url": "http://127.0.0.1:8080/items/{{a}}?b={{b}}",
    "verb": "POST",
    "headers": {"X-A": "{{a}}", "X-B": "b={{b}}", "Accept": "text/plain"},
    "body": {"a": "{{a}}", "text": "b is {{b}}", "fixed": 1},
    "repeat": "{{n|2}}",
}

#: Values that compare equal and render apart (1, 1.0 and True; 0.0 and -0.0), NaN, and mutable
#: ones.
VALUES = st.sampled_from(
    [0, 1, True, False, 0.0, -0.0, 1.0, None, "1", "true", "a b/c", float("nan"), [1], {"k": 1}]
)


def rendered(template: RequestTemplate, values: dict[str, Any]) -> tuple[Any, ...]:
    origin = template.origin({})
    request = template.render(origin, values, automatic_headers({}))
    return (request.url, request.target, dict(request.headers), request.body, request.repeat)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"a": VALUES, "b": VALUES}), min_size=1, max_size=8))
def test_a_template_reused_across_updates_renders_as_a_new_one(
    updates: list[dict[str, Any]],
) -> None:
    reused = RequestTemplate(BLOCK)
    for values in updates:
        assert rendered(reused, values) == rendered(RequestTemplate(BLOCK), values)


def test_an_update_renders_only_the_parts_that_read_a_changed_value() -> None:
    template = RequestTemplate(BLOCK)
    texts: list[str] = []
    render_text = template._text

    def counted(key: str, text: str, *args: Any, **kwargs: Any) -> str:
        texts.append(text)
        return render_text(key, text, *args, **kwargs)

    template._text = counted  # type: ignore[method-assign]
    rendered(template, {"a": 1, "b": 2})
    assert sorted(texts) == sorted(
        ["/items/{{a}}?b={{b}}", "{{a}}", "b={{b}}", "text/plain", "b is {{b}}"]
    )
    texts.clear()
    rendered(template, {"a": 1, "b": 3})
    assert sorted(texts) == sorted(["/items/{{a}}?b={{b}}", "b={{b}}", "b is {{b}}"])
    texts.clear()
    rendered(template, {"a": 1, "b": 3})
    assert texts == []


def test_a_uuid_renders_anew_and_nothing_else_does() -> None:
    block = {
        "url": "http://127.0.0.1:8080/{{a}}",
        "headers": {"X-Id": "{{uuid()}}", "X-A": "{{a}}"},
    }
    template = RequestTemplate(block)
    first, second = (rendered(template, {"a": 1}) for _ in range(2))
    assert first[2]["X-Id"] != second[2]["X-Id"]
    assert (
        (first[0], first[2]["X-A"])
        == (second[0], second[2]["X-A"])
        == ("http://127.0.0.1:8080/1", "1")
    )
