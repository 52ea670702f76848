#!/usr/bin/env python3
"""codegen: Kafka JSON message specs -> C++ codecs for the APIs Cairn serves.

Reads tools/codegen/apis.json (which APIs, which versions) and the specs in
shared/kafka-message-specs (Kafka's clients/src/main/resources/common/message/*.json), and writes
into src/protocol/generated/:

  <api>.h / <api>.cc      one Request and one Response struct per API, with
                          encode(Writer&, version) and decode(Reader&, version)
  api_catalog.h / .cc     the table of APIs and versions, and the header-version rules
  api_catalog.json        the same table for tools (tools/codegen/protocol_doc.py)
  (the hand-written helpers they use live in src/protocol/message_support.h and
  src/protocol/sample_support.h)
  testing/                sample-value fillers for the round-trip tests (not in the library)

Only fields present in some served version are generated; everything else in the spec is
ignored. Output is deterministic: the same inputs always give the same bytes, so
tools/codegen/check.sh can diff a fresh run against the committed code.

Usage: codegen.py [--specs DIR] [--out DIR] [--config FILE]
Standard library only (Debian's python3).
"""
import argparse
import json
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_VERSION = 0x7FFF

# name -> (C++ type, encoded bytes, Reader/Writer suffix)
PRIMITIVES = {
    "int8": ("int8_t", 1, "int8"),
    "int16": ("int16_t", 2, "int16"),
    "uint16": ("uint16_t", 2, "uint16"),
    "int32": ("int32_t", 4, "int32"),
    "uint32": ("uint32_t", 4, "uint32"),
    "int64": ("int64_t", 8, "int64"),
    "float64": ("double", 8, "float64"),
    "bool": ("bool", 1, "bool"),
    "uuid": ("Uuid", 16, "uuid"),
}
VARIABLE = ("string", "bytes", "records")
# Names the generated structs must not shadow inside a message's scope.
RESERVED_TYPE_NAMES = {"Records", "Reader", "Writer", "Uuid", "FileRange", "Frame", "Splice"}


class SpecError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Spec parsing


def strip_comments(text):
    """Removes // comments (Kafka's specs have them) without touching string contents."""
    out = []
    i = 0
    in_string = False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        out.append(c)
        i += 1
    return "".join(out)


def load_spec(specs_dir, name):
    path = os.path.join(specs_dir, name + ".json")
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


class Versions:
    """A contiguous version range; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo = lo
        self.hi = hi

    @staticmethod
    def parse(text):
        text = str(text).strip()
        if text == "none":
            return Versions(1, 0)
        if text.endswith("+"):
            return Versions(int(text[:-1]), MAX_VERSION)
        if "-" in text:
            lo, hi = text.split("-")
            return Versions(int(lo), int(hi))
        return Versions(int(text), int(text))

    def empty(self):
        return self.lo > self.hi

    def contains(self, v):
        return self.lo <= v <= self.hi

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi == MAX_VERSION:
            return f"{self.lo}+"
        if self.lo == self.hi:
            return str(self.lo)
        return f"{self.lo}-{self.hi}"


def condition(versions, context):
    """A C++ condition on `version` true exactly for the context versions in `versions`.

    Returns "true" / "false" when it does not depend on the version within the context."""
    inside = {v for v in context if versions.contains(v)}
    if inside == context:
        return "true"
    if not inside:
        return "false"
    parts = []
    if any(v < versions.lo for v in context):
        parts.append(f"version >= {versions.lo}")
    if any(v > versions.hi for v in context):
        parts.append(f"version <= {versions.hi}")
    return " && ".join(parts)


def snake_case(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


class Field:
    def __init__(self, spec, owner):
        self.name = spec["name"]
        self.cpp = snake_case(self.name)
        self.about = spec.get("about", "")
        raw_type = spec["type"]
        self.array = raw_type.startswith("[]")
        self.elem = raw_type[2:] if self.array else raw_type
        self.versions = Versions.parse(spec.get("versions", "none"))
        self.nullable = Versions.parse(spec.get("nullableVersions", "none"))
        self.tagged = Versions.parse(spec.get("taggedVersions", "none"))
        self.tag = spec.get("tag")
        self.default = spec.get("default")
        self.ignorable = bool(spec.get("ignorable", False))
        self.has_fields = "fields" in spec
        if "flexibleVersions" in spec:
            raise SpecError(f"{owner}.{self.name}: field-level flexibleVersions is unsupported")
        if not self.tagged.empty():
            if self.tag is None:
                raise SpecError(f"{owner}.{self.name}: taggedVersions without tag")
            if self.tagged.hi < self.versions.hi:
                raise SpecError(f"{owner}.{self.name}: tagged versions must run to the end")
        elif self.tag is not None:
            raise SpecError(f"{owner}.{self.name}: tag without taggedVersions")

    def is_struct(self):
        return self.elem not in PRIMITIVES and self.elem not in VARIABLE

    def regular_versions(self):
        """Versions where the field sits in the fixed part of the struct (not tagged)."""
        if self.tagged.empty():
            return self.versions
        return Versions(self.versions.lo, min(self.versions.hi, self.tagged.lo - 1))

    def tagged_versions(self):
        return Versions(max(self.versions.lo, self.tagged.lo), min(self.versions.hi, self.tagged.hi))


class Struct:
    def __init__(self, name, fields_spec, owner):
        self.name = name
        self.fields = [Field(f, f"{owner}.{name}") for f in fields_spec]
        self.context = set()  # message versions at which this struct is encoded
        self.top = False

    def live_fields(self):
        return [f for f in self.fields if any(f.versions.contains(v) for v in self.context)]


class Message:
    """One spec file (a request or a response) restricted to the served versions."""

    def __init__(self, spec, served_lo, served_hi):
        self.name = spec["name"]
        self.api_key = spec["apiKey"]
        valid = Versions.parse(spec["validVersions"])
        if not (valid.contains(served_lo) and valid.contains(served_hi)):
            raise SpecError(f"{self.name}: served {served_lo}-{served_hi} outside {valid}")
        self.valid = valid
        self.flexible = Versions.parse(spec.get("flexibleVersions", "none"))
        self.served = (served_lo, served_hi)
        self.structs = {}  # name -> Struct, every definition in the spec
        self.top = Struct(self.name, spec["fields"], self.name)
        self.top.top = True
        for common in spec.get("commonStructs", []):
            self._define(Struct(common["name"], common["fields"], self.name))
        self._collect(spec["fields"])
        for common in spec.get("commonStructs", []):
            self._collect(common["fields"])
        self._visit(self.top, set(range(served_lo, served_hi + 1)))

    def first_flexible(self):
        return -1 if self.flexible.empty() else self.flexible.lo

    def _define(self, struct):
        if struct.name in RESERVED_TYPE_NAMES or struct.name == self.name:
            raise SpecError(f"{self.name}: struct name {struct.name} is reserved")
        if struct.name in self.structs:
            raise SpecError(f"{self.name}: struct {struct.name} defined twice")
        self.structs[struct.name] = struct

    def _collect(self, fields_spec):
        for f in fields_spec:
            if "fields" in f:
                elem = f["type"][2:] if f["type"].startswith("[]") else f["type"]
                self._define(Struct(elem, f["fields"], self.name))
                self._collect(f["fields"])

    def _visit(self, struct, context):
        struct.context |= context
        for field in struct.fields:
            present = {v for v in context if field.versions.contains(v)}
            if not present:
                continue
            if field.is_struct():
                if field.elem not in self.structs:
                    raise SpecError(f"{self.name}: unknown type {field.elem}")
                self._visit(self.structs[field.elem], present)
            elif field.array and field.elem in ("bytes", "records", "bool"):
                raise SpecError(f"{self.name}.{field.name}: arrays of {field.elem} unsupported")
            elif field.array and field.elem not in PRIMITIVES and field.elem != "string":
                raise SpecError(f"{self.name}.{field.name}: unsupported type {field.elem}")
            if field.elem == "records" and not field.tagged.empty():
                raise SpecError(f"{self.name}.{field.name}: tagged records unsupported")

    def ordered_structs(self):
        """Live nested structs, each after the structs it contains (C++ needs them complete)."""
        order = []
        seen = set()

        def visit(struct):
            for field in struct.live_fields():
                if field.is_struct() and field.elem not in seen:
                    seen.add(field.elem)
                    visit(self.structs[field.elem])
                    order.append(self.structs[field.elem])

        visit(self.top)
        return order


# ---------------------------------------------------------------------------------------------
# C++ types, defaults and sizes


def is_nullable(field, struct):
    return any(field.nullable.contains(v) for v in struct.context if field.versions.contains(v))


def qualified(message, struct):
    return message.name if struct.top else f"{message.name}::{struct.name}"


def element_type(field):
    if field.elem in PRIMITIVES:
        return PRIMITIVES[field.elem][0]
    if field.elem == "string":
        return "std::string"
    return field.elem


def cpp_type(field, struct):
    nullable = is_nullable(field, struct)
    if field.array:
        t = f"std::vector<{element_type(field)}>"
    elif field.elem == "string":
        t = "std::string"
    elif field.elem == "bytes":
        t = "std::vector<uint8_t>"
    elif field.elem == "records":
        return "Records"
    else:
        t = element_type(field)
    if nullable and (field.array or field.elem in ("string", "bytes") or field.is_struct()):
        return f"std::optional<{t}>"
    return t


def int_literal(value, ctype):
    bits = {"int8_t": 8, "int16_t": 16, "int32_t": 32, "int64_t": 64}.get(ctype)
    if bits and value == -(1 << (bits - 1)):
        return f"INT{bits}_MIN"
    if ctype == "int64_t" and abs(value) > 0x7FFFFFFF:
        return f"INT64_C({value})"
    return str(value)


def parse_int(raw):
    if isinstance(raw, bool):
        raise SpecError(f"bad integer default {raw!r}")
    if isinstance(raw, int):
        return raw
    return int(str(raw), 0)


def default_value(field, struct):
    """The C++ expression for the field's default, or None for a value-initialised default."""
    raw = field.default
    null_default = isinstance(raw, str) and raw == "null"
    if field.array or field.elem == "bytes":
        if is_nullable(field, struct) and not null_default:
            return f"{cpp_type(field, struct)[len('std::optional<'):-1]}()"
        return None
    if field.elem == "records" or field.is_struct() or field.elem == "uuid":
        return None
    if field.elem == "string":
        text = "" if raw is None or null_default else str(raw)
        if is_nullable(field, struct) and not null_default:
            return f"std::string({json.dumps(text)})" if text else "std::string()"
        return json.dumps(text) if text else None
    ctype = PRIMITIVES[field.elem][0]
    if field.elem == "bool":
        if raw is None:
            return "false"
        return "true" if str(raw).lower() == "true" else "false"
    if field.elem == "float64":
        return repr(float(raw)) if raw is not None else "0.0"
    return int_literal(parse_int(raw) if raw is not None else 0, ctype)


def not_default_expr(field, struct, expr):
    """C++ condition: `expr` differs from the field's default (tagged fields are then written)."""
    nullable = is_nullable(field, struct)
    default = default_value(field, struct)
    if field.array or field.elem == "bytes":
        if not nullable:
            return f"!{expr}.empty()"
        if default is None:
            return f"{expr}.has_value()"
        return f"(!{expr}.has_value() || !{expr}->empty())"
    if field.is_struct() and nullable:
        return f"{expr}.has_value()"
    if field.is_struct():
        return f"!({expr} == {element_type(field)}{{}})"
    if field.elem == "uuid":
        return f"{expr} != Uuid{{}}"
    if field.elem == "string":
        if nullable:
            if default is None:
                return f"{expr}.has_value()"
            text = json.loads(default[len("std::string("):-1] or '""')
            return f"{expr} != std::optional<std::string>({json.dumps(text)})"
        return f"!{expr}.empty()" if default is None else f"{expr} != {default}"
    if field.elem == "bool":
        return f"!{expr}" if default == "true" else expr
    return f"{expr} != {default}"


def min_bytes(message, field, version, flexible):
    """The fewest bytes `field` takes at `version` (0 when absent or tagged)."""
    if not field.regular_versions().contains(version):
        return 0
    if field.array:
        return 1 if flexible else 4
    if field.elem in PRIMITIVES:
        return PRIMITIVES[field.elem][1]
    if field.elem == "string":
        return 1 if flexible else 2
    if field.elem in ("bytes", "records"):
        return 1 if flexible else 4
    if field.nullable.contains(version):
        return 1  # a nullable struct: its int8 presence marker (-1 for null)
    return struct_min_bytes(message, message.structs[field.elem], version)


def struct_min_bytes(message, struct, version):
    flexible = message.flexible.contains(version)
    total = 1 if flexible else 0  # the tagged-field count
    for field in struct.live_fields():
        total += min_bytes(message, field, version, flexible)
    return total


def element_min_bytes(message, field, struct):
    """A lower bound on one array element's size over every version the field is read at."""
    versions = [v for v in struct.context if field.versions.contains(v)]
    if field.elem in PRIMITIVES:
        return PRIMITIVES[field.elem][1]
    if field.elem == "string":
        return min(1 if message.flexible.contains(v) else 2 for v in versions)
    sub = message.structs[field.elem]
    return max(1, min(struct_min_bytes(message, sub, v) for v in versions))


def comment_lines(text, indent, width=100):
    if not text:
        return []
    prefix = " " * indent + "// "
    return [prefix + line for line in textwrap.wrap(text, width - len(prefix))]


def field_doc(field, struct):
    parts = [f"v{field.versions}"]
    if is_nullable(field, struct):
        parts.append(f"nullable v{field.nullable}")
    if not field.tagged.empty():
        parts.append(f"tagged v{field.tagged} tag {field.tag}")
    about = field.about.strip()
    return ", ".join(parts) + (f". {about}" if about else ".")


# ---------------------------------------------------------------------------------------------
# Encode / decode bodies


class Emitter:
    def __init__(self):
        self.lines = []

    def line(self, text="", indent=0):
        self.lines.append((" " * indent + text) if text else "")

    def text(self):
        return "\n".join(self.lines) + "\n"


def guarded(em, cond, indent, body):
    """Emits `body(indent)` under `if (cond)` unless cond is always true."""
    if cond == "false":
        return
    if cond == "true":
        body(indent)
        return
    em.line(f"if ({cond}) {{", indent)
    body(indent + 2)
    em.line("}", indent)


def encode_value(em, message, struct, field, expr, w, indent, nullable_cond):
    """Writes `expr` (the field's value) to writer `w`."""
    if field.array:
        elem = element_type(field)
        if field.elem in PRIMITIVES:
            item = f"{w}.write_{PRIMITIVES[field.elem][2]}(item);"
        elif field.elem == "string":
            item = f"codec::write_string({w}, flexible, item);"
        else:
            item = f"item.encode({w}, version);"
        lam = f"[&](const {elem}& item) {{"
        if cpp_type(field, struct).startswith("std::optional"):
            em.line(f"codec::write_nullable_array({w}, flexible, {nullable_cond}, {expr}, {lam}",
                    indent)
        else:
            em.line(f"codec::write_array({w}, flexible, {expr}, {lam}", indent)
        em.line(item, indent + 2)
        em.line("});", indent)
    elif field.elem in PRIMITIVES:
        em.line(f"{w}.write_{PRIMITIVES[field.elem][2]}({expr});", indent)
    elif field.elem in ("string", "bytes"):
        if cpp_type(field, struct).startswith("std::optional"):
            em.line(f"codec::write_nullable_{field.elem}({w}, flexible, {nullable_cond}, {expr});",
                    indent)
        else:
            em.line(f"codec::write_{field.elem}({w}, flexible, {expr});", indent)
    elif field.elem == "records":
        em.line(f"codec::write_records({w}, flexible, {nullable_cond}, {expr});", indent)
    elif cpp_type(field, struct).startswith("std::optional"):
        # A nullable struct: an int8 marker (-1 null, 1 present) where nullable, then the struct;
        # where it is not nullable a null is written as the struct's defaults.
        marker = f"{w}.write_int8({expr}.has_value() ? 1 : -1);"
        em.line(marker if nullable_cond == "true" else f"if ({nullable_cond}) {marker}", indent)
        em.line(f"if ({expr}.has_value()) {{", indent)
        em.line(f"{expr}->encode({w}, version);", indent + 2)
        if nullable_cond == "true":
            em.line("}", indent)
        else:
            em.line(f"}} else if (!({nullable_cond})) {{", indent)
            em.line(f"{element_type(field)}{{}}.encode({w}, version);", indent + 2)
            em.line("}", indent)
    else:
        em.line(f"{expr}.encode({w}, version);", indent)


def decode_value(em, message, struct, field, expr, r, indent, nullable_cond):
    """Reads the field's value from reader `r` into `expr`."""
    if field.array:
        elem = element_type(field)
        if field.elem in PRIMITIVES:
            item = f"item = {r}.read_{PRIMITIVES[field.elem][2]}();"
        elif field.elem == "string":
            item = f"item = codec::read_string({r}, flexible);"
        else:
            item = f"item.decode({r}, version);"
        lam = f"[&]({elem}& item) {{"
        size = element_min_bytes(message, field, struct)
        if field.is_struct():
            size = f"{field.elem}::kMinEncodedBytes"
        if cpp_type(field, struct).startswith("std::optional"):
            em.line(f"codec::read_nullable_array({r}, flexible, {nullable_cond}, {size}, {expr}, "
                    f"{lam}", indent)
        else:
            em.line(f"codec::read_array({r}, flexible, {size}, {expr}, {lam}", indent)
        em.line(item, indent + 2)
        em.line("});", indent)
    elif field.elem in PRIMITIVES:
        em.line(f"{expr} = {r}.read_{PRIMITIVES[field.elem][2]}();", indent)
    elif field.elem in ("string", "bytes"):
        if cpp_type(field, struct).startswith("std::optional"):
            em.line(f"{expr} = codec::read_nullable_{field.elem}({r}, flexible, {nullable_cond});",
                    indent)
        else:
            em.line(f"{expr} = codec::read_{field.elem}({r}, flexible);", indent)
    elif field.elem == "records":
        em.line(f"{expr} = codec::read_records({r}, flexible, {nullable_cond});", indent)
    elif cpp_type(field, struct).startswith("std::optional"):
        present = f"{r}.read_int8() >= 0"
        if nullable_cond != "true":
            present = f"!({nullable_cond}) || {present}"
        em.line(f"if ({present}) {{", indent)
        # Assigned, not emplace()d: clang decides whether a nested struct with member
        # initializers is default-constructible before the enclosing struct is complete.
        inner = cpp_type(field, struct)[len("std::optional<"):-1]
        em.line(f"{expr} = {inner}{{}};", indent + 2)
        em.line(f"{expr}->decode({r}, version);", indent + 2)
        em.line("} else {", indent)
        em.line(f"{expr}.reset();", indent + 2)
        em.line("}", indent)
    else:
        em.line(f"{expr}.decode({r}, version);", indent)


def nullable_condition(field, struct, versions):
    present = {v for v in struct.context if versions.contains(v)}
    return condition(field.nullable, present) if present else "false"


def flexible_line(message, struct):
    cond = condition(message.flexible, struct.context)
    if cond in ("true", "false"):
        return f"[[maybe_unused]] constexpr bool flexible = {cond};"
    return f"[[maybe_unused]] const bool flexible = {cond};"


def flexible_context(message, struct):
    return {v for v in struct.context if message.flexible.contains(v)}


def tagged_fields(struct):
    live = [f for f in struct.live_fields() if not f.tagged.empty()]
    live = [f for f in live if any(f.tagged_versions().contains(v) for v in struct.context)]
    return sorted(live, key=lambda f: f.tag)


def emit_encode(em, message, struct):
    name = qualified(message, struct)
    em.line(f"void {name}::encode(Writer& w, int16_t version) const {{")
    if struct.top:
        em.line("ASSERT(version >= kMinVersion);", 2)
        em.line("ASSERT(version <= kMaxVersion);", 2)
    em.line(flexible_line(message, struct), 2)
    for field in struct.live_fields():
        regular = field.regular_versions()
        cond = condition(regular, struct.context)
        ncond = nullable_condition(field, struct, regular)
        guarded(em, cond, 2, lambda ind, f=field, n=ncond: encode_value(
            em, message, struct, f, f.cpp, "w", ind, n))
    tagged = tagged_fields(struct)
    flex = condition(message.flexible, struct.context)
    if flex != "false":
        def body(ind):
            if not tagged:
                em.line("w.write_empty_tagged_fields();", ind)
                return
            em.line("uint32_t tagged_count = 0;", ind)
            for f in tagged:
                present = condition(f.tagged_versions(), flexible_context(message, struct))
                check = not_default_expr(f, struct, f.cpp)
                full = check if present == "true" else f"{present} && {check}"
                em.line(f"const bool write_{f.cpp} = {full};", ind)
                em.line(f"tagged_count += write_{f.cpp} ? 1 : 0;", ind)
            em.line("w.write_unsigned_varint(tagged_count);", ind)
            for f in tagged:
                ncond = nullable_condition(f, struct, f.tagged_versions())
                em.line(f"if (write_{f.cpp}) {{", ind)
                em.line("Writer t;", ind + 2)
                encode_value(em, message, struct, f, f.cpp, "t", ind + 2, ncond)
                em.line(f"codec::write_tagged_field(w, {f.tag}, t);", ind + 2)
                em.line("}", ind)
        guarded(em, "flexible" if flex != "true" else "true", 2, body)
    em.line("}")
    em.line()


def emit_decode(em, message, struct):
    name = qualified(message, struct)
    if struct.top:
        em.line(f"bool {name}::decode(Reader& r, int16_t version) {{")
        em.line(f"*this = {struct.name}();", 2)
        em.line("if (version < kMinVersion || version > kMaxVersion) {", 2)
        em.line('r.fail("unsupported version");', 4)
        em.line("return false;", 4)
        em.line("}", 2)
    else:
        em.line(f"void {name}::decode(Reader& r, int16_t version) {{")
    em.line(flexible_line(message, struct), 2)
    for field in struct.live_fields():
        regular = field.regular_versions()
        cond = condition(regular, struct.context)
        ncond = nullable_condition(field, struct, regular)
        guarded(em, cond, 2, lambda ind, f=field, n=ncond: decode_value(
            em, message, struct, f, f.cpp, "r", ind, n))
    tagged = tagged_fields(struct)
    flex = condition(message.flexible, struct.context)
    if flex != "false":
        def body(ind):
            if not tagged:
                em.line("r.skip_tagged_fields();", ind)
                return
            em.line("r.read_tagged_fields([&](uint32_t tag, std::span<const uint8_t> value) {",
                    ind)
            em.line("Reader t(value);", ind + 2)
            em.line("switch (tag) {", ind + 2)
            for f in tagged:
                present = condition(f.tagged_versions(), flexible_context(message, struct))
                ncond = nullable_condition(f, struct, f.tagged_versions())
                em.line(f"case {f.tag}:", ind + 4)
                if present != "true":
                    em.line(f"if (!({present})) return;  // not defined at this version", ind + 6)
                decode_value(em, message, struct, f, f.cpp, "t", ind + 6, ncond)
                em.line("break;", ind + 6)
            em.line("default:", ind + 4)
            em.line("return;  // unknown tagged fields are skipped", ind + 6)
            em.line("}", ind + 2)
            em.line("codec::end_tagged_field(r, t);", ind + 2)
            em.line("});", ind)
        guarded(em, "flexible" if flex != "true" else "true", 2, body)
    if struct.top:
        em.line("return r.ok();", 2)
    em.line("}")
    em.line()


# ---------------------------------------------------------------------------------------------
# Headers and sources


BANNER = (
    "// Generated by tools/codegen/codegen.py from {sources}.\n"
    "// DO NOT EDIT: change tools/codegen (or apis.json) and rerun it; check.sh diffs this file.\n"
)


def emit_struct_decl(em, message, struct, indent):
    em.line(f"struct {struct.name} {{", indent)
    i = indent + 2
    if struct.top:
        em.line(f"static constexpr int16_t kApiKey = {message.api_key};", i)
        em.line(f"static constexpr int16_t kMinVersion = {message.served[0]};", i)
        em.line(f"static constexpr int16_t kMaxVersion = {message.served[1]};", i)
        em.line("// First flexible version in Kafka's spec (may be above kMaxVersion); -1: none.",
                i)
        em.line(f"static constexpr int16_t kFirstFlexibleVersion = {message.first_flexible()};", i)
        em.line()
        for sub in message.ordered_structs():
            emit_struct_decl(em, message, sub, i)
            em.line()
    else:
        bytes_min = max(1, min(struct_min_bytes(message, struct, v) for v in struct.context))
        em.line("// The fewest bytes one encoded element takes (bounds array counts on decode).",
                i)
        em.line(f"static constexpr size_t kMinEncodedBytes = {bytes_min};", i)
        em.line()
    for field in struct.live_fields():
        for c in comment_lines(field_doc(field, struct), i):
            em.line(c)
        ctype = cpp_type(field, struct)
        default = default_value(field, struct)
        if default is None and field.elem == "uuid" and not field.array:
            em.line(f"{ctype} {field.cpp}{{}};", i)
        elif default is None:
            em.line(f"{ctype} {field.cpp};", i)
        else:
            em.line(f"{ctype} {field.cpp} = {default};", i)
    if struct.live_fields():
        em.line()
    if struct.top:
        em.line("// Encodes the body (no header) at `version`.", i)
        em.line("// REQUIRES: kMinVersion <= version <= kMaxVersion; fields that may be null are",
                i)
        em.line("// set at versions where they are not nullable.", i)
        em.line("void encode(Writer& w, int16_t version) const;", i)
        em.line("// Decodes the body at `version` into *this (reset first). False (and `r` failed)",
                i)
        em.line("// on malformed input or an unserved version. Bytes after the body are left in",
                i)
        em.line("// `r`. Records fields view the frame, which must outlive this message.", i)
        em.line("bool decode(Reader& r, int16_t version);", i)
    else:
        em.line("void encode(Writer& w, int16_t version) const;", i)
        em.line("void decode(Reader& r, int16_t version);", i)
    em.line(f"bool operator==(const {struct.name}&) const = default;", i)
    em.line("};", indent)


def api_file_stem(api_name):
    return snake_case(api_name)


def emit_api(api, messages, subdir=""):
    stem = subdir + api_file_stem(api["name"])
    request, response = messages
    sources = f"{request.name}.json, {response.name}.json"
    h = Emitter()
    h.lines.append(BANNER.format(sources=sources).rstrip("\n"))
    h.line("//")
    flex = request.first_flexible()
    flex_text = "never flexible" if flex < 0 else f"flexible from v{flex}"
    if flex > request.served[1]:
        flex_text += " (not served)"
    h.line(f"// {api['name']} (API key {request.api_key}): versions "
           f"{request.served[0]}-{request.served[1]} served, {flex_text}.")
    if api["name"] == "ApiVersions":
        h.line("// ApiVersionsResponse always travels with response header v0 (KIP-511).")
    h.line("// Plain values: any thread may build, encode or decode them.")
    h.line("#pragma once")
    h.line()
    h.line("#include <cstddef>")
    h.line("#include <cstdint>")
    h.line("#include <optional>")
    h.line("#include <string>")
    h.line("#include <vector>")
    h.line()
    h.line('#include "protocol/message_support.h"')
    h.line()
    h.line("namespace cairn::protocol {")
    for message in messages:
        h.line()
        emit_struct_decl(h, message, message.top, 0)
    h.line()
    h.line("}  // namespace cairn::protocol")

    c = Emitter()
    c.lines.append(BANNER.format(sources=sources).rstrip("\n"))
    c.line(f'#include "protocol/generated/{stem}.h"')
    c.line()
    c.line("#include <span>")
    c.line()
    c.line('#include "base/assert.h"')
    c.line()
    c.line("namespace cairn::protocol {")
    c.line()
    for message in messages:
        for struct in message.ordered_structs() + [message.top]:
            emit_encode(c, message, struct)
            emit_decode(c, message, struct)
    c.line("}  // namespace cairn::protocol")
    return {f"{stem}.h": h.text(), f"{stem}.cc": c.text()}


# ---------------------------------------------------------------------------------------------
# Sample values for the round-trip tests (generated/testing)


def sample_value(field, elem_only=False):
    """A SampleContext call giving a fresh non-default value of the field's (element) type."""
    if field.elem == "bool":
        default = default_value(field, None) if not field.array else None
        return "true" if default in (None, "false") else "false"
    if field.elem in PRIMITIVES:
        return f"c.next_{PRIMITIVES[field.elem][2]}()"
    if field.elem == "string":
        return "c.next_string()"
    if field.elem == "bytes":
        return "c.next_bytes()"
    if field.elem == "records":
        return "c.next_records()"
    return None


def emit_fill_field(em, message, struct, field, indent):
    ncond = nullable_condition(field, struct, field.versions)
    null_test = "c.nulls" if ncond == "true" else f"c.nulls && {ncond}"
    nullable = cpp_type(field, struct).startswith("std::optional") or field.elem == "records"
    m = f"m.{field.cpp}"
    if field.array:
        if field.is_struct():
            item = "fill_sample(item, c);"
        else:
            item = f"item = {sample_value(field)};"
        elem = element_type(field)
        if field.is_struct():
            elem = f"{message.name}::{elem}"
        fill = f"c.fill_items(TARGET, [&]({elem}& item) {{ {item} }});"
        if nullable:
            em.line(f"if ({null_test}) {{", indent)
            em.line(f"{m} = std::nullopt;", indent + 2)
            em.line("} else {", indent)
            em.line(f"{m}.emplace();", indent + 2)
            em.line(fill.replace("TARGET", f"*{m}"), indent + 2)
            em.line("}", indent)
        else:
            em.line(fill.replace("TARGET", m), indent)
        return
    if field.is_struct() and nullable:
        em.line(f"if ({null_test}) {{", indent)
        em.line(f"{m} = std::nullopt;", indent + 2)
        em.line("} else {", indent)
        em.line(f"{m} = {message.name}::{element_type(field)}{{}};  // not emplace(): see decode",
                indent + 2)
        em.line(f"fill_sample(*{m}, c);", indent + 2)
        em.line("}", indent)
        return
    if field.is_struct():
        em.line(f"fill_sample({m}, c);", indent)
        return
    value = sample_value(field)
    if nullable and ncond != "false" and field.elem == "records":
        em.line(f"{m} = {null_test} ? Records() : {value};", indent)
    elif nullable and ncond != "false":
        em.line(f"if ({null_test}) {{", indent)
        em.line(f"{m} = std::nullopt;", indent + 2)
        em.line("} else {", indent)
        em.line(f"{m} = {value};", indent + 2)
        em.line("}", indent)
    else:
        em.line(f"{m} = {value};", indent)


def emit_fill(em, message, struct, declare_static):
    name = qualified(message, struct)
    prefix = "static " if declare_static else ""
    em.line(f"{prefix}void fill_sample({name}& m, SampleContext& c) {{")
    em.line("[[maybe_unused]] const int16_t version = c.version;", 2)
    if struct.top:
        em.line(f"ASSERT(version >= {name}::kMinVersion);", 2)
        em.line(f"ASSERT(version <= {name}::kMaxVersion);", 2)
    for field in struct.live_fields():
        cond = condition(field.versions, struct.context)
        guarded(em, cond, 2, lambda ind, f=field: emit_fill_field(em, message, struct, f, ind))
    em.line("}")
    em.line()


def emit_samples(api, messages):
    stem = api_file_stem(api["name"])
    c = Emitter()
    c.lines.append(BANNER.format(
        sources=f"{messages[0].name}.json, {messages[1].name}.json").rstrip("\n"))
    c.line('#include "protocol/generated/testing/samples.h"')
    c.line()
    c.line('#include "base/assert.h"')
    c.line()
    c.line("namespace cairn::protocol::testing {")
    c.line()
    for message in messages:
        for struct in message.ordered_structs():
            emit_fill(c, message, struct, True)
        emit_fill(c, message, message.top, False)
    c.line("}  // namespace cairn::protocol::testing")
    return {f"testing/{stem}_samples.cc": c.text()}


def emit_samples_header(apis, test_apis):
    h = Emitter()
    h.lines.append(BANNER.format(sources="message specs (see tools/codegen/apis.json)")
                   .rstrip("\n"))
    h.line("//")
    h.line("// Sample messages for tests: fill_sample(m, c) sets every field present at c.version")
    h.line("// to a distinct non-default value (or, with c.nulls, nullable fields to null and")
    h.line("// arrays to one element). Test-only; not part of cairn_protocol.")
    h.line("#pragma once")
    h.line()
    h.line('#include "protocol/generated/testing/all_apis.h"')
    for api in test_apis:
        h.line(f'#include "protocol/generated/testing/{api_file_stem(api["name"])}.h"')
    h.line('#include "protocol/sample_support.h"')
    h.line()
    h.line("namespace cairn::protocol::testing {")
    h.line()
    for api in apis + test_apis:
        h.line(f"void fill_sample({api['name']}Request& m, SampleContext& c);")
        h.line(f"void fill_sample({api['name']}Response& m, SampleContext& c);")
    h.line()
    h.line("}  // namespace cairn::protocol::testing")
    return {"testing/samples.h": h.text()}


def emit_all_apis(apis):
    h = Emitter()
    h.lines.append(BANNER.format(sources="message specs (see tools/codegen/apis.json)")
                   .rstrip("\n"))
    h.line("//")
    h.line("// Every generated API, for tests and fuzzers that must cover all of them. The broker")
    h.line("// dispatches through its own plain table, not through this list.")
    h.line("#pragma once")
    h.line()
    for api in apis:
        h.line(f'#include "protocol/generated/{api_file_stem(api["name"])}.h"')
    h.line()
    h.line("// CAIRN_FOR_EACH_GENERATED_API(X) expands X(Name) for NameRequest / NameResponse.")
    h.line("#define CAIRN_FOR_EACH_GENERATED_API(X) \\")
    for i, api in enumerate(apis):
        tail = " \\" if i + 1 < len(apis) else ""
        h.line(f"  X({api['name']}){tail}")
    return {"testing/all_apis.h": h.text()}


# ---------------------------------------------------------------------------------------------
# The API catalog


def emit_catalog(apis, requests):
    rows = []
    for api in apis:
        req = requests[api["name"]]
        rows.append((req.api_key, api["name"], req.served[0], req.served[1],
                     req.first_flexible()))
    h = Emitter()
    h.lines.append(BANNER.format(sources="message specs (see tools/codegen/apis.json)")
                   .rstrip("\n"))
    h.line("//")
    h.line("// The catalog: every API Cairn has a codec for, the versions it serves, and the")
    h.line("// header-version rules. The broker joins this table with its handlers to build its")
    h.line("// API table and the ApiVersions response. Constant data; any thread.")
    h.line("#pragma once")
    h.line()
    h.line("#include <array>")
    h.line("#include <cstdint>")
    h.line()
    h.line("namespace cairn::protocol {")
    h.line()
    h.line("struct ApiInfo {")
    h.line("int16_t api_key;", 2)
    h.line("const char* name;  // Kafka's name without Request/Response: \"Metadata\"", 2)
    h.line("int16_t min_version;  // served range, inclusive", 2)
    h.line("int16_t max_version;", 2)
    h.line("// First flexible version in Kafka's spec, -1 if the API has none. It may be above", 2)
    h.line("// max_version: header parsing must still know it for unserved versions (KIP-511).",
           2)
    h.line("int16_t first_flexible_version;", 2)
    h.line()
    h.line("bool serves(int16_t version) const {", 2)
    h.line("return version >= min_version && version <= max_version;", 4)
    h.line("}", 2)
    h.line("bool is_flexible(int16_t version) const {", 2)
    h.line("return first_flexible_version >= 0 && version >= first_flexible_version;", 4)
    h.line("}", 2)
    h.line("};")
    h.line()
    h.line("// Sorted by api_key.")
    h.line(f"inline constexpr std::array<ApiInfo, {len(rows)}> kApiCatalog = {{{{")
    for row in sorted(rows):
        h.line(f'{{{row[0]}, "{row[1]}", {row[2]}, {row[3]}, {row[4]}}},', 4)
    h.line("}};")
    h.line()
    h.line("// The catalog entry for `api_key`, or nullptr if Cairn has no codec for it.")
    h.line("const ApiInfo* find_api(int16_t api_key);")
    h.line()
    h.line("// Request header version for (api_key, api_version): 2 when that version is")
    h.line("// flexible, else 1; -1 for an unknown api_key. Versions outside the served range")
    h.line("// still get an answer, so that an unsupported ApiVersions request can be parsed.")
    h.line("int request_header_version(int16_t api_key, int16_t api_version);")
    h.line()
    h.line("// Response header version: 1 when the version is flexible, else 0; -1 for an")
    h.line("// unknown api_key. ApiVersions responses always use v0 (KIP-511).")
    h.line("int response_header_version(int16_t api_key, int16_t api_version);")
    h.line()
    h.line("}  // namespace cairn::protocol")

    c = Emitter()
    c.lines.append(BANNER.format(sources="message specs (see tools/codegen/apis.json)")
                   .rstrip("\n"))
    c.line('#include "protocol/generated/api_catalog.h"')
    c.line()
    c.line("namespace cairn::protocol {")
    c.line()
    c.line("const ApiInfo* find_api(int16_t api_key) {")
    c.line("switch (api_key) {", 2)
    for i, row in enumerate(sorted(rows)):
        c.line(f"case {row[0]}:", 4)
        c.line(f"return &kApiCatalog[{i}];", 6)
    c.line("default:", 4)
    c.line("return nullptr;", 6)
    c.line("}", 2)
    c.line("}")
    c.line()
    c.line("int request_header_version(int16_t api_key, int16_t api_version) {")
    c.line("const ApiInfo* api = find_api(api_key);", 2)
    c.line("if (api == nullptr) return -1;", 2)
    c.line("return api->is_flexible(api_version) ? 2 : 1;", 2)
    c.line("}")
    c.line()
    c.line("int response_header_version(int16_t api_key, int16_t api_version) {")
    c.line("const ApiInfo* api = find_api(api_key);", 2)
    c.line("if (api == nullptr) return -1;", 2)
    c.line(f"if (api_key == {requests['ApiVersions'].api_key}) return 0;  // KIP-511", 2)
    c.line("return api->is_flexible(api_version) ? 1 : 0;", 2)
    c.line("}")
    c.line()
    c.line("}  // namespace cairn::protocol")

    table = {
        "//": "Generated by tools/codegen/codegen.py; read by tools/codegen/protocol_doc.py.",
        "apis": [
            {"api_key": r[0], "name": r[1], "min_version": r[2], "max_version": r[3],
             "first_flexible_version": r[4]}
            for r in sorted(rows)
        ],
    }
    return {
        "api_catalog.h": h.text(),
        "api_catalog.cc": c.text(),
        "api_catalog.json": json.dumps(table, indent=2) + "\n",
    }


# ---------------------------------------------------------------------------------------------
# Driver

def load_api(specs_dir, api):
    messages = []
    for kind in ("Request", "Response"):
        spec = load_spec(specs_dir, api["name"] + kind)
        if spec.get("type") != kind.lower():
            raise SpecError(f"{api['name']}{kind}: type is {spec.get('type')}")
        messages.append(Message(spec, api["min"], api["max"]))
    if messages[0].api_key != messages[1].api_key:
        raise SpecError(f"{api['name']}: request and response api keys differ")
    if str(messages[0].flexible) != str(messages[1].flexible):
        raise SpecError(f"{api['name']}: request and response flexible versions differ")
    return messages


def generate(specs_dir, config_path):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    apis = config["apis"]
    test_apis = config.get("test_apis", [])
    outputs = {}
    requests = {}
    for api in apis:
        messages = load_api(specs_dir, api)
        requests[api["name"]] = messages[0]
        outputs.update(emit_api(api, messages))
        outputs.update(emit_samples(api, messages))
    for api in test_apis:
        messages = load_api(os.path.join(HERE, "testdata"), api)
        outputs.update(emit_api(api, messages, "testing/"))
        outputs.update(emit_samples(api, messages))
    outputs.update(emit_catalog(apis, requests))
    outputs.update(emit_samples_header(apis, test_apis))
    outputs.update(emit_all_apis(apis))
    return outputs


def write_outputs(out_dir, outputs):
    """Writes changed files only (keeps build timestamps) and deletes stale generated files."""
    for rel, text in sorted(outputs.items()):
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        # Atomic replace: a build running meanwhile sees the old file or the new, never half.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    for dirpath, _, filenames in os.walk(out_dir):
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), out_dir)
            if rel not in outputs and name.endswith((".h", ".cc", ".json")):
                os.remove(os.path.join(dirpath, name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--specs", default=os.path.join(ROOT, "..", "shared",
                                                        "kafka-message-specs"))
    parser.add_argument("--out", default=os.path.join(ROOT, "src", "protocol", "generated"))
    parser.add_argument("--config", default=os.path.join(HERE, "apis.json"))
    args = parser.parse_args()
    try:
        outputs = generate(args.specs, args.config)
    except (SpecError, OSError, ValueError, KeyError) as e:
        print(f"codegen: {e}", file=sys.stderr)
        return 1
    write_outputs(args.out, outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
