#!/usr/bin/env python3
"""Check an applicationHost.config or web.config against IIS-format schema files.

    python3 config/check_config.py [--schema FILE_OR_DIR]... [--apphost FILE] [--strict] CONFIG...

--schema     a schema file, or a folder whose *.xml files are all read (default:
             the schema/ folder next to this script). A <sectionSchema> that names
             an already defined section extends it, as in IIS.
--apphost    the applicationHost.config whose <configSections> (and location
             unlocks) apply; use it when CONFIG is a web.config. Without it every
             CONFIG is checked as an applicationHost.config.
--strict     also fail on warnings (a registered section that no schema describes).

Prints "ok" and exits 0 when everything is valid; otherwise prints one
"file:line: message" per problem and exits 1. Python 3 standard library only.
The schema loader (load_schema) is also used by config/schema_doc.py.
"""
import argparse
import os
import re
import sys
import xml.parsers.expat

# --------------------------------------------------------------------------- XML
class Node:
    __slots__ = ('tag', 'attrs', 'children', 'line', 'attr_lines', 'comments', 'file', 'parent')

    def __init__(self, tag, attrs, line, file):
        self.tag, self.attrs, self.line, self.file = tag, attrs, line, file
        self.children, self.attr_lines, self.comments, self.parent = [], {}, [], None

    def where(self, attr=None):
        return '%s:%d' % (self.file, self.attr_lines.get(attr, self.line) if attr else self.line)


class ConfigError(Exception):
    pass


def parse_xml(path):
    """Parse PATH into a Node tree with line numbers for elements and attributes.
    Comments directly before an element are kept in node.comments."""
    with open(path, 'rb') as f:
        data = f.read()
    parser = xml.parsers.expat.ParserCreate()
    parser.ordered_attributes = True
    root = [None]
    stack = []
    pending = []

    def start(tag, attrlist):
        line = parser.CurrentLineNumber
        attrs = {}
        for k, v in zip(attrlist[0::2], attrlist[1::2]):
            attrs[k] = v
        node = Node(tag, attrs, line, path)
        node.comments = list(pending)
        del pending[:]
        # Line of each attribute: search the raw start tag.
        pos = parser.CurrentByteIndex
        end = data.find(b'>', pos)
        tagtext = data[pos:end if end >= 0 else len(data)]
        for k in attrs:
            m = re.search(rb'[\s]' + re.escape(k.encode()) + rb'\s*=', tagtext)
            node.attr_lines[k] = line + (tagtext[:m.start()].count(b'\n') if m else 0)
        if stack:
            node.parent = stack[-1]
            stack[-1].children.append(node)
        else:
            root[0] = node
        stack.append(node)

    def end(tag):
        stack.pop()
        del pending[:]

    def comment(text):
        pending.append(' '.join(text.split()))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CommentHandler = comment
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as e:
        raise ConfigError('%s:%d: not well-formed XML: %s' % (path, e.lineno, xml.parsers.expat.ErrorString(e.code)))
    return root[0]


# --------------------------------------------------------------------------- schema
TYPES = ('bool', 'uint', 'int', 'int64', 'string', 'enum', 'flags', 'timeSpan')
VALIDATORS = ('integerRange', 'nonEmptyString', 'timeSpanRange', 'applicationPoolName',
              'siteName', 'trimWhiteSpaceString')
SCHEMA_ATTR_KEYS = {'name', 'type', 'required', 'isUniqueKey', 'isCombinedKey', 'defaultValue',
                    'encrypted', 'expanded', 'caseSensitive', 'allowInfinite', 'timeSpanFormat',
                    'validationType', 'validationParameter'}
SCHEMA_COLL_KEYS = {'addElement', 'removeElement', 'clearElement', 'defaultElement', 'mergeAppend',
                    'allowDuplicates', 'allowUnrecognizedAttributes'}
SCHEMA_ELEM_KEYS = {'name', 'isCollectionDefault'}
INT_RANGES = {'uint': (0, 2**32 - 1), 'int': (-2**31, 2**31 - 1), 'int64': (-2**63, 2**63 - 1)}


def schema_bool(node, key, default=False):
    v = node.attrs.get(key)
    if v is None:
        return default
    if v.lower() in ('true', 'false'):
        return v.lower() == 'true'
    raise ConfigError('%s: %s="%s" must be true or false' % (node.where(key), key, v))


class AttrDef:
    def __init__(self, node):
        a = node.attrs
        self.node = node
        self.name = a.get('name', '')
        self.type = a.get('type', '')
        self.required = schema_bool(node, 'required')
        self.unique = schema_bool(node, 'isUniqueKey')
        self.combined = schema_bool(node, 'isCombinedKey')
        self.default = a.get('defaultValue')
        self.expanded = schema_bool(node, 'expanded')
        self.case_sensitive = schema_bool(node, 'caseSensitive')
        self.allow_infinite = schema_bool(node, 'allowInfinite')
        self.encrypted = schema_bool(node, 'encrypted')
        self.ts_format = a.get('timeSpanFormat', 'string')
        self.vtype = a.get('validationType')
        self.vparam = a.get('validationParameter', '')
        self.values = []          # (name, number) for enum / flags
        self.notes = list(node.comments)

    @property
    def is_key(self):
        return self.unique or self.combined


class ElemDef:
    """A section, an element, or one item of a collection."""

    def __init__(self, name, node=None, kind='element'):
        self.name, self.node, self.kind = name, node, kind
        self.attrs = {}           # name -> AttrDef, in schema order
        self.elements = {}        # name -> ElemDef
        self.collection = None    # CollDef
        self.is_coll_default = False
        self.notes = list(node.comments) if node is not None else []

    def keys(self):
        return [a for a in self.attrs.values() if a.is_key]


class CollDef:
    def __init__(self, node):
        a = node.attrs
        self.node = node
        self.add = a.get('addElement')
        self.remove = a.get('removeElement')
        self.clear = a.get('clearElement')
        self.default_element = a.get('defaultElement')
        self.merge_append = schema_bool(node, 'mergeAppend', True)
        self.allow_duplicates = schema_bool(node, 'allowDuplicates')
        self.allow_unrecognized = schema_bool(node, 'allowUnrecognizedAttributes')
        self.item = ElemDef(self.add or '', node, kind='item')
        self.notes = list(node.comments)


class Schema:
    def __init__(self):
        self.sections = {}        # path -> ElemDef
        self.files = []
        self.warnings = []


def _read_values(adef, node, errors):
    for child in node.children:
        if child.tag not in ('enum', 'flag', 'flags'):
            errors.append('%s: <%s> is not allowed in <attribute> (only <enum> or <flag>)' % (child.where(), child.tag))
            continue
        want = 'enum' if adef.type == 'enum' else 'flags'
        if (child.tag == 'enum') != (want == 'enum'):
            errors.append('%s: <%s> in attribute "%s" of type %s' % (child.where(), child.tag, adef.name, adef.type))
            continue
        name, value = child.attrs.get('name'), child.attrs.get('value')
        if not name or value is None:
            errors.append('%s: <%s> needs name and value' % (child.where(), child.tag))
            continue
        try:
            num = int(value, 0)
        except ValueError:
            errors.append('%s: value "%s" of %s "%s" is not a number' % (child.where('value'), value, child.tag, name))
            continue
        if want == 'flags' and num != 0 and num & (num - 1):
            errors.append('%s: flag "%s" has value %d, which is not a power of 2' % (child.where('value'), name, num))
        adef.values.append((name, num))


def _build(edef, node, errors):
    """Fill EDEF (ElemDef) from the schema NODE's children, merging into what is there."""
    for child in node.children:
        if child.tag == 'attribute':
            unknown = set(child.attrs) - SCHEMA_ATTR_KEYS
            for k in sorted(unknown):
                errors.append('%s: unknown schema attribute "%s" on <attribute>' % (child.where(k), k))
            adef = AttrDef(child)
            if not adef.name:
                errors.append('%s: <attribute> without a name' % child.where())
                continue
            if adef.type not in TYPES:
                errors.append('%s: attribute "%s" has unknown type "%s" (one of %s)'
                              % (child.where('type'), adef.name, adef.type, ', '.join(TYPES)))
                continue
            if adef.type in ('enum', 'flags'):
                _read_values(adef, child, errors)
                if not adef.values:
                    errors.append('%s: %s attribute "%s" defines no values' % (child.where(), adef.type, adef.name))
            elif child.children:
                errors.append('%s: attribute "%s" of type %s cannot have <%s> children'
                              % (child.children[0].where(), adef.name, adef.type, child.children[0].tag))
            if adef.vtype and adef.vtype not in VALIDATORS:
                errors.append('%s: unknown validationType "%s" (one of %s)'
                              % (child.where('validationType'), adef.vtype, ', '.join(VALIDATORS)))
            if adef.ts_format not in ('string', 'seconds', 'minutes'):
                errors.append('%s: timeSpanFormat must be string, seconds or minutes' % child.where('timeSpanFormat'))
            if adef.name in edef.attrs:
                errors.append('%s: attribute "%s" of <%s> is already defined at %s'
                              % (child.where('name'), adef.name, edef.name, edef.attrs[adef.name].node.where()))
                continue
            if adef.default is not None:
                msg = check_value(adef, adef.default)
                if msg:
                    errors.append('%s: defaultValue of attribute "%s": %s' % (child.where('defaultValue'), adef.name, msg))
            edef.attrs[adef.name] = adef
        elif child.tag == 'element':
            for k in sorted(set(child.attrs) - SCHEMA_ELEM_KEYS):
                errors.append('%s: unknown schema attribute "%s" on <element>' % (child.where(k), k))
            name = child.attrs.get('name')
            if not name:
                errors.append('%s: <element> without a name' % child.where())
                continue
            sub = edef.elements.get(name)
            if sub is None:
                sub = edef.elements[name] = ElemDef(name, child)
            sub.is_coll_default = sub.is_coll_default or schema_bool(child, 'isCollectionDefault')
            _build(sub, child, errors)
        elif child.tag == 'collection':
            for k in sorted(set(child.attrs) - SCHEMA_COLL_KEYS):
                errors.append('%s: unknown schema attribute "%s" on <collection>' % (child.where(k), k))
            coll = CollDef(child)
            if not coll.add:
                errors.append('%s: <collection> without addElement' % child.where())
                continue
            if edef.collection is None:
                edef.collection = coll
            else:
                old = edef.collection
                if old.add != coll.add:
                    errors.append('%s: <%s> already has a collection of <%s> (%s)'
                                  % (child.where(), edef.name, old.add, old.node.where()))
                    continue
                old.remove = old.remove or coll.remove
                old.clear = old.clear or coll.clear
            _build(edef.collection.item, child, errors)
        else:
            errors.append('%s: <%s> is not allowed in <%s>' % (child.where(), child.tag, node.tag))
    # names must not collide
    if edef.collection:
        c = edef.collection
        for d in (c.add, c.remove, c.clear):
            if d and d in edef.elements:
                errors.append('%s: collection directive <%s> of <%s> has the name of a child element'
                              % (c.node.where(), d, edef.name))
        if c.default_element and c.default_element not in edef.elements:
            errors.append('%s: defaultElement "%s" is not a child element of <%s>'
                          % (c.node.where('defaultElement'), c.default_element, edef.name))
        if c.remove and not c.item.keys() and not c.allow_duplicates:
            errors.append('%s: collection of <%s> has a remove directive but no key attribute'
                          % (c.node.where(), c.add))
    for a in edef.attrs.values():
        if a.is_key and edef.kind != 'item':
            errors.append('%s: key attribute "%s" outside a collection' % (a.node.where(), a.name))


def load_schema(paths):
    """Read schema files (or every *.xml in folders). Returns (Schema, errors)."""
    schema, errors = Schema(), []
    files = []
    for p in paths:
        if os.path.isdir(p):
            # iisd's own schema first, so that other files extend it (as IIS_schema.xml in IIS)
            names = sorted((f for f in os.listdir(p) if f.lower().endswith('.xml')),
                           key=lambda f: (f != 'iisd_schema.xml', f.lower()))
            files += [os.path.join(p, f) for f in names]
        else:
            files.append(p)
    if not files:
        errors.append('no schema files in %s' % ', '.join(paths))
    for f in files:
        try:
            root = parse_xml(f)
        except (OSError, ConfigError) as e:
            errors.append(str(e))
            continue
        schema.files.append(f)
        if root.tag != 'configSchema':
            errors.append('%s: the root element is <%s>, not <configSchema>' % (root.where(), root.tag))
            continue
        for sec in root.children:
            if sec.tag != 'sectionSchema':
                errors.append('%s: <%s> is not allowed in <configSchema>' % (sec.where(), sec.tag))
                continue
            name = sec.attrs.get('name')
            if not name:
                errors.append('%s: <sectionSchema> without a name' % sec.where())
                continue
            edef = schema.sections.get(name)
            if edef is None:
                edef = schema.sections[name] = ElemDef(name, sec, kind='section')
            _build(edef, sec, errors)
    return schema, errors


# --------------------------------------------------------------------------- values
TIMESPAN_RE = re.compile(r'^(-)?(?:(\d+)\.)?(\d+):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$')
NUM_RE = re.compile(r'^[+-]?(?:\d+|0[xX][0-9a-fA-F]+)$')


def parse_int(text):
    t = text.strip()
    if not NUM_RE.match(t):
        return None
    return int(t, 0) if 'x' in t.lower() else int(t, 10)


def parse_timespan(text, fmt='string'):
    """Seconds as a float, or None. Accepts [-][d.]hh:mm[:ss[.fffffff]] and plain numbers
    (seconds, or minutes when timeSpanFormat is minutes)."""
    t = text.strip()
    n = parse_int(t)
    if n is not None:
        return n * (60 if fmt == 'minutes' else 1)
    m = TIMESPAN_RE.match(t)
    if not m:
        return None
    sign, d, h, mi, s, frac = m.groups()
    if int(mi) > 59 or (s is not None and int(s) > 59):
        return None
    v = int(d or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s or 0) + float('0.' + (frac or '0'))
    return -v if sign else v


def enum_number(adef, text):
    t = text.strip()
    for n, v in adef.values:
        if n.lower() == t.lower():
            return v
    n = parse_int(t)
    if n is not None and any(v == n for _, v in adef.values):
        return n
    return None


def flags_number(adef, text):
    t = text.strip()
    n = parse_int(t)
    allbits = 0
    for _, v in adef.values:
        allbits |= v
    if n is not None:
        return n if n >= 0 and not (n & ~allbits) else None
    total = 0
    for part in t.split(','):
        p = part.strip()
        for name, v in adef.values:
            if name.lower() == p.lower():
                total |= v
                break
        else:
            return None
    return total


def names(adef):
    return ', '.join(n for n, _ in adef.values)


def check_value(adef, value):
    """None if VALUE is valid for ADEF, else a message."""
    t = adef.type
    if adef.allow_infinite and value.strip().lower() == 'infinite' and t in ('uint', 'int', 'int64', 'timeSpan'):
        return None
    if t == 'bool':
        if value.strip().lower() not in ('true', 'false'):
            return '"%s" is not a bool (true or false)' % value
    elif t in INT_RANGES:
        n = parse_int(value)
        lo, hi = INT_RANGES[t]
        if n is None:
            return '"%s" is not a number (%s)' % (value, t)
        if not lo <= n <= hi:
            return '"%s" is out of the %s range %d..%d' % (value, t, lo, hi)
    elif t == 'enum':
        if enum_number(adef, value) is None:
            return '"%s" is not one of %s (or their numbers)' % (value, names(adef))
    elif t == 'flags':
        if flags_number(adef, value) is None:
            if parse_int(value) is not None:
                return '"%s" has bits that are none of %s' % (value, names(adef))
            known = {n.lower() for n, _ in adef.values}
            bad = [p.strip() for p in value.split(',') if p.strip().lower() not in known]
            return '%s %s not one of the flags %s (write them comma-separated, or as a number)' % (
                ', '.join('"%s"' % x for x in bad) or '""', 'is' if len(bad) < 2 else 'are', names(adef))
    elif t == 'timeSpan':
        if parse_timespan(value, adef.ts_format) is None:
            return '"%s" is not a time span ([d.]hh:mm:ss)' % value
    # validators
    vt, vp = adef.vtype, adef.vparam
    if vt == 'nonEmptyString':
        if value == '':
            return 'must not be empty'
    elif vt == 'trimWhiteSpaceString':
        if value != value.strip():
            return '"%s" has white space at its start or end' % value
    elif vt == 'applicationPoolName':
        bad = [c for c in '|<>&"' if c in value]
        if bad:
            return '"%s" contains %s, not allowed in an application pool name' % (value, ''.join(bad))
    elif vt == 'siteName':
        bad = [c for c in '/\\.?' if c in value]
        if bad:
            return '"%s" contains %s, not allowed in a site name' % (value, ''.join(bad))
    elif vt == 'integerRange' and t in INT_RANGES:
        parts = [p.strip() for p in vp.split(',')]
        n = parse_int(value)
        try:
            lo, hi = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            return 'bad validationParameter "%s" in the schema' % vp
        exclude = len(parts) > 2 and parts[2].lower() == 'exclude'
        inside = lo <= n <= hi
        if exclude and inside:
            return '"%s" must not be in the range %d..%d' % (value, lo, hi)
        if not exclude and not inside:
            return '"%s" is outside the range %d..%d' % (value, lo, hi)
    elif vt == 'timeSpanRange' and t == 'timeSpan':
        parts = [p.strip() for p in vp.split(',')]
        sec = parse_timespan(value, adef.ts_format)
        try:
            lo, hi = int(parts[0]), int(parts[1])
            gran = int(parts[2]) if len(parts) > 2 and parts[2].lower() != 'exclude' else 1
        except (ValueError, IndexError):
            return 'bad validationParameter "%s" in the schema' % vp
        exclude = parts[-1].lower() == 'exclude'
        inside = lo <= sec <= hi
        if exclude == inside:
            return '"%s" is %s the range %d..%d seconds' % (value, 'inside' if exclude else 'outside', lo, hi)
        if gran > 1 and sec % gran:
            return '"%s" is not a multiple of %d seconds' % (value, gran)
    return None


def key_value(adef, value):
    """Normalized form of a key attribute's value for duplicate detection."""
    if value is None:
        value = adef.default if adef.default is not None else ''
    t = adef.type
    if t == 'enum':
        n = enum_number(adef, value)
        return n if n is not None else value
    if t == 'flags':
        n = flags_number(adef, value)
        return n if n is not None else value
    if t in INT_RANGES:
        n = parse_int(value)
        return n if n is not None else value
    if t == 'bool':
        return value.strip().lower()
    if t == 'timeSpan':
        v = parse_timespan(value, adef.ts_format)
        return v if v is not None else value
    return value if adef.case_sensitive else value.lower()


# --------------------------------------------------------------------------- config
LOCK_ATTRS = ('lockAttributes', 'lockAllAttributesExcept', 'lockElements', 'lockAllElementsExcept')
SECTION_REG_ATTRS = {'name', 'type', 'overrideModeDefault', 'allowDefinition', 'allowLocation',
                     'requirePermission', 'restartOnExternalChanges', 'allowExeDefinition'}
ALLOW_DEFINITION = ('MachineOnly', 'MachineToRootWeb', 'MachineToApplication', 'AppHostOnly', 'Everywhere')
APPHOST_ONLY = ('MachineOnly', 'MachineToRootWeb', 'AppHostOnly')


class Registry:
    def __init__(self):
        self.sections = {}        # path -> attrs dict (+ '_where')
        self.groups = set()
        self.unlocked = set()     # sections unlocked by a <location overrideMode="Allow">


class Checker:
    def __init__(self, schema, strict=False):
        self.schema = schema
        self.errors = []
        self.warnings = []
        self.strict = strict

    def err(self, where, msg):
        self.errors.append('%s: %s' % (where, msg))

    # ----------------------------------------------------------- configSections
    def read_config_sections(self, node, reg, prefix=''):
        for child in node.children:
            if child.tag == 'sectionGroup':
                name = child.attrs.get('name')
                for k in child.attrs:
                    if k not in ('name', 'type'):
                        self.err(child.where(k), 'unknown attribute %s of <sectionGroup>' % k)
                if not name:
                    self.err(child.where(), '<sectionGroup> without a name')
                    continue
                path = prefix + '/' + name if prefix else name
                if path in reg.sections:
                    self.err(child.where('name'), 'section group %s has the name of a section' % path)
                reg.groups.add(path)
                self.read_config_sections(child, reg, path)
            elif child.tag == 'section':
                name = child.attrs.get('name')
                if not name:
                    self.err(child.where(), '<section> without a name')
                    continue
                path = prefix + '/' + name if prefix else name
                a = child.attrs
                for k in a:
                    if k not in SECTION_REG_ATTRS:
                        self.err(child.where(k), 'unknown attribute %s of <section name="%s">' % (k, name))
                omd = a.get('overrideModeDefault', 'Allow')
                if omd not in ('Allow', 'Deny'):
                    self.err(child.where('overrideModeDefault'),
                             'attribute overrideModeDefault of <section name="%s">: "%s" is not Allow or Deny' % (name, omd))
                ad = a.get('allowDefinition', 'Everywhere')
                if ad not in ALLOW_DEFINITION:
                    self.err(child.where('allowDefinition'),
                             'attribute allowDefinition of <section name="%s">: "%s" is not one of %s'
                             % (name, ad, ', '.join(ALLOW_DEFINITION)))
                for b in ('allowLocation', 'requirePermission', 'restartOnExternalChanges'):
                    if b in a and a[b].lower() not in ('true', 'false'):
                        self.err(child.where(b), 'attribute %s of <section name="%s">: "%s" is not a bool (true or false)'
                                 % (b, name, a[b]))
                if path in reg.sections:
                    self.err(child.where('name'), 'section %s is registered twice (first at %s)'
                             % (path, reg.sections[path]['_where']))
                    continue
                if path in reg.groups:
                    self.err(child.where('name'), 'section %s has the name of a section group' % path)
                info = dict(a)
                info['_where'] = child.where()
                reg.sections[path] = info
                if path not in self.schema.sections:
                    self.warnings.append('%s: section %s is registered but no schema describes it' % (child.where(), path))
            elif child.tag in ('remove', 'clear'):
                pass
            else:
                self.err(child.where(), '<%s> is not allowed in <configSections>' % child.tag)

    # ----------------------------------------------------------- file
    def check_file(self, path, apphost=None):
        try:
            root = parse_xml(path)
        except (OSError, ConfigError) as e:
            self.errors.append(str(e))
            return
        if root is None or root.tag != 'configuration':
            self.err(root.where() if root else path + ':1', 'the root element must be <configuration>')
            return
        for k in root.attrs:
            if not (k == 'xmlns' or k.startswith('xmlns:')):
                self.err(root.where(k), 'unknown attribute %s of <configuration>' % k)
        reg = Registry()
        is_apphost = apphost is None
        if apphost is not None:
            self.load_registrations(apphost, reg)
        for i, child in enumerate(root.children):
            if child.tag == 'configSections':
                if i != 0:
                    self.err(child.where(), '<configSections> must be the first element of <configuration>')
                self.read_config_sections(child, reg)
        self.collect_unlocks(root, reg)
        seen = {}
        for child in root.children:
            if child.tag == 'configSections':
                continue
            if child.tag == 'location':
                self.check_location(child, reg, seen, is_apphost)
            else:
                self.walk(child, '', reg, seen, '', is_apphost, in_location=False)

    def load_registrations(self, apphost, reg):
        try:
            root = parse_xml(apphost)
        except (OSError, ConfigError) as e:
            self.errors.append(str(e))
            return
        for child in root.children:
            if child.tag == 'configSections':
                self.read_config_sections(child, reg)
        self.collect_unlocks(root, reg)

    def collect_unlocks(self, root, reg):
        for loc in root.children:
            if loc.tag != 'location':
                continue
            allow = (loc.attrs.get('overrideMode') == 'Allow'
                     or loc.attrs.get('allowOverride', '').lower() == 'true')
            if not allow:
                continue
            stack = [(c, c.tag) for c in loc.children]
            while stack:
                node, path = stack.pop()
                if path in reg.sections:
                    reg.unlocked.add(path)
                else:
                    stack += [(c, path + '/' + c.tag) for c in node.children]

    def check_location(self, loc, reg, seen, is_apphost):
        a = loc.attrs
        for k in a:
            if k not in ('path', 'overrideMode', 'allowOverride', 'inheritInChildApplications'):
                self.err(loc.where(k), 'unknown attribute %s of <location>' % k)
        if 'overrideMode' in a and a['overrideMode'] not in ('Allow', 'Deny', 'Inherit'):
            self.err(loc.where('overrideMode'),
                     'attribute overrideMode of <location>: "%s" is not Allow, Deny or Inherit' % a['overrideMode'])
        if 'overrideMode' in a and 'allowOverride' in a:
            self.err(loc.where('allowOverride'), '<location> sets both overrideMode and allowOverride')
        for b in ('allowOverride', 'inheritInChildApplications'):
            if b in a and a[b].lower() not in ('true', 'false'):
                self.err(loc.where(b), 'attribute %s of <location>: "%s" is not a bool (true or false)' % (b, a[b]))
        lpath = a.get('path', '').strip().strip('/')
        if lpath == '.':
            lpath = ''
        for child in loc.children:
            if child.tag == 'location':
                self.err(child.where(), '<location> cannot be nested')
                continue
            if child.tag == 'configSections':
                self.err(child.where(), '<configSections> cannot be inside <location>')
                continue
            self.walk(child, '', reg, seen, lpath, is_apphost, in_location=True)

    def walk(self, node, prefix, reg, seen, lpath, is_apphost, in_location):
        path = prefix + '/' + node.tag if prefix else node.tag
        if path in reg.sections:
            self.check_section(node, path, reg, seen, lpath, is_apphost, in_location)
        elif path in reg.groups:
            for k in node.attrs:
                self.err(node.where(k), 'attribute %s on section group <%s>: section groups have no attributes' % (k, path))
            for child in node.children:
                self.walk(child, path, reg, seen, lpath, is_apphost, in_location)
        else:
            where = ('in <%s>' % prefix) if prefix else 'at the top level'
            hint = ''
            if not reg.sections:
                hint = '; this file registers no sections: for a web.config, pass --apphost applicationHost.config'
            self.err(node.where(), '<%s> %s is not a registered section or section group (see <configSections>)%s'
                     % (node.tag, where, hint))

    def check_section(self, node, path, reg, seen, lpath, is_apphost, in_location):
        info = reg.sections[path]
        key = (lpath.lower(), path)
        if key in seen:
            self.err(node.where(), 'section %s is set twice for the same path (first at %s)' % (path, seen[key]))
        else:
            seen[key] = node.where()
        if in_location and info.get('allowLocation', 'true').lower() == 'false':
            self.err(node.where(), 'section %s cannot be set inside <location> (allowLocation="false")' % path)
        if not is_apphost:
            if info.get('allowDefinition', 'Everywhere') in APPHOST_ONLY:
                self.err(node.where(), 'section %s can only be set in applicationHost.config (allowDefinition="%s")'
                         % (path, info['allowDefinition']))
            elif info.get('overrideModeDefault', 'Allow') == 'Deny' and path not in reg.unlocked:
                self.err(node.where(), 'section %s is locked (overrideModeDefault="Deny") and no <location '
                         'overrideMode="Allow"> in applicationHost.config unlocks it' % path)
        sdef = self.schema.sections.get(path)
        if sdef is None:
            self.err(node.where(), 'section %s has no schema (no <sectionSchema name="%s">)' % (path, path))
            return
        for k in node.attrs:
            if k == 'configSource':
                if node.children or len(node.attrs) > 1:
                    self.err(node.where(k), 'a section with configSource must have no other content')
        self.check_element(node, sdef, is_section=True)

    # ----------------------------------------------------------- elements
    def check_attrs(self, node, edef, is_item=False, allow_unrecognized=False):
        tag = node.tag
        for k, v in node.attrs.items():
            if k in LOCK_ATTRS:
                self.check_lock_list(node, edef, k, v)
            elif k == 'lockItem':
                if not is_item:
                    self.err(node.where(k), 'attribute lockItem of <%s>: only collection entries can be locked' % tag)
                elif v.lower() not in ('true', 'false'):
                    self.err(node.where(k), 'attribute lockItem of <%s>: "%s" is not a bool (true or false)' % (tag, v))
            elif k == 'configSource' and edef.kind == 'section':
                pass
            elif k in edef.attrs:
                msg = check_value(edef.attrs[k], v)
                if msg:
                    self.err(node.where(k), 'attribute %s of <%s>: %s' % (k, tag, msg))
            elif not allow_unrecognized:
                hint = [a for a in edef.attrs if a.lower() == k.lower()]
                extra = ' (did you mean %s?)' % hint[0] if hint else ''
                self.err(node.where(k), 'unknown attribute %s of <%s>%s' % (k, tag, extra))
        if not edef.is_coll_default and 'configSource' not in node.attrs:
            for a in edef.attrs.values():
                if a.required and a.name not in node.attrs:
                    self.err(node.where(), 'attribute %s of <%s> is required' % (a.name, tag))

    def check_lock_list(self, node, edef, k, v):
        items = [x.strip() for x in v.split(',') if x.strip()]
        if k in ('lockAttributes', 'lockAllAttributesExcept'):
            valid = set(edef.attrs)
        else:
            valid = set(edef.elements)
            if edef.collection:
                valid |= {d for d in (edef.collection.add, edef.collection.remove, edef.collection.clear) if d}
        for x in items:
            if x != '*' and x not in valid:
                self.err(node.where(k), 'attribute %s of <%s>: "%s" is not an %s of <%s>'
                         % (k, node.tag, x, 'attribute' if 'Attributes' in k else 'element', node.tag))

    def check_element(self, node, edef, is_section=False, is_item=False, allow_unrecognized=False):
        self.check_attrs(node, edef, is_item=is_item, allow_unrecognized=allow_unrecognized)
        seen_elems = {}
        coll = edef.collection
        keys_here = {}                # normalized key -> where, for this collection level
        for child in node.children:
            t = child.tag
            if t in edef.elements:
                if t in seen_elems:
                    self.err(child.where(), 'element <%s> appears twice in <%s> (first at %s)' % (t, node.tag, seen_elems[t]))
                seen_elems[t] = child.where()
                self.check_element(child, edef.elements[t])
            elif coll and t == coll.add:
                self.check_element(child, coll.item, is_item=True, allow_unrecognized=coll.allow_unrecognized)
                keys = coll.item.keys()
                if keys and not coll.allow_duplicates:
                    k = tuple(key_value(a, child.attrs.get(a.name)) for a in keys)
                    if k in keys_here:
                        desc = ', '.join('%s="%s"' % (a.name, child.attrs.get(a.name, a.default or '')) for a in keys)
                        self.err(child.where(keys[0].name if keys[0].name in child.attrs else None),
                                 'duplicate <%s> in <%s>: %s is already added at %s'
                                 % (t, node.tag, desc, keys_here[k]))
                    else:
                        keys_here[k] = child.where()
            elif coll and t == coll.remove:
                keys = coll.item.keys()
                for k2, v in child.attrs.items():
                    if k2 in LOCK_ATTRS or k2 == 'lockItem':
                        continue
                    a = coll.item.attrs.get(k2)
                    if a is None or not a.is_key:
                        self.err(child.where(k2), 'attribute %s of <%s>: only key attributes (%s) identify the entry to remove'
                                 % (k2, t, ', '.join(x.name for x in keys) or 'none'))
                        continue
                    msg = check_value(a, v)
                    if msg:
                        self.err(child.where(k2), 'attribute %s of <%s>: %s' % (k2, t, msg))
                uniq = [a for a in keys if a.unique]
                for a in uniq:
                    if a.name not in child.attrs:
                        self.err(child.where(), 'attribute %s of <%s> is required' % (a.name, t))
                if keys and not uniq and not any(a.name in child.attrs for a in keys):
                    self.err(child.where(), '<%s> names no key attribute (%s)' % (t, ', '.join(a.name for a in keys)))
                if child.children:
                    self.err(child.children[0].where(), '<%s> cannot contain elements' % t)
                k = tuple(key_value(a, child.attrs.get(a.name)) for a in keys)
                keys_here.pop(k, None)
            elif coll and t == coll.clear:
                for k2 in child.attrs:
                    if k2 not in LOCK_ATTRS:
                        self.err(child.where(k2), 'unknown attribute %s of <%s>' % (k2, t))
                if child.children:
                    self.err(child.children[0].where(), '<%s> cannot contain elements' % t)
                keys_here.clear()
            else:
                allowed = list(edef.elements)
                if coll:
                    allowed += [d for d in (coll.add, coll.remove, coll.clear) if d]
                self.err(child.where(), 'unknown element <%s> in <%s>%s' % (
                    t, node.tag, (' (allowed: %s)' % ', '.join(allowed)) if allowed else ' (it has no child elements)'))


# --------------------------------------------------------------------------- main
def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description='Check IIS-format configuration files against schema files.')
    ap.add_argument('--schema', action='append', help='schema file or folder (repeatable; default: %s)'
                    % os.path.join(here, 'schema'))
    ap.add_argument('--apphost', help='applicationHost.config whose configSections apply (CONFIG is then a web.config)')
    ap.add_argument('--strict', action='store_true', help='fail on warnings too')
    ap.add_argument('config', nargs='+', help='configuration file(s) to check')
    args = ap.parse_args(argv)

    schema, errors = load_schema(args.schema or [os.path.join(here, 'schema')])
    checker = Checker(schema, strict=args.strict)
    checker.errors += errors
    for path in args.config:
        checker.check_file(path, apphost=args.apphost)
    for e in checker.errors:
        print(e)
    sys.stdout.flush()
    for w in checker.warnings:
        if args.strict:
            print(w)
        else:
            print('warning: ' + w, file=sys.stderr)
    problems = checker.errors + (checker.warnings if args.strict else [])
    if problems:
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
