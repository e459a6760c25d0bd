#!/usr/bin/env python3
"""Write docs/configuration-schema.md from the schema files, so the reference stays true.

    python3 config/schema_doc.py            # rewrite docs/configuration-schema.md
    python3 config/schema_doc.py --check    # exit 1 if the file is out of date
    python3 config/schema_doc.py --stdout   # print instead of writing

Reads config/schema/*.xml (the same loader as check_config.py) and, for the
delegation line of each section, the <configSections> of config/applicationHost.config.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_config import load_schema, parse_xml  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'docs', 'configuration-schema.md')


def esc(text):
    return text.replace('|', '\\|').replace('\n', ' ')


def code(text):
    return '`%s`' % text if text != '' else '`""`'


def registrations(path):
    """section path -> (overrideModeDefault, allowDefinition) from a config file's configSections."""
    out = {}
    if not os.path.exists(path):
        return out
    root = parse_xml(path)

    def walk(node, prefix):
        for c in node.children:
            name = c.attrs.get('name', '')
            p = prefix + '/' + name if prefix else name
            if c.tag == 'sectionGroup':
                walk(c, p)
            elif c.tag == 'section':
                out[p] = (c.attrs.get('overrideModeDefault', 'Allow'), c.attrs.get('allowDefinition', 'Everywhere'))
    for c in root.children:
        if c.tag == 'configSections':
            walk(c, '')
    return out


def attr_notes(a):
    notes = []
    if a.required:
        notes.append('required')
    if a.unique:
        notes.append('unique key')
    if a.combined:
        notes.append('part of the key')
    if a.type in ('enum', 'flags'):
        notes.append(('one of ' if a.type == 'enum' else 'any of ') +
                     ', '.join('%s (%d)' % (n, v) for n, v in a.values))
    if a.vtype == 'integerRange':
        p = [x.strip() for x in a.vparam.split(',')]
        if len(p) > 2 and p[2].lower() == 'exclude':
            notes.append('not %s..%s' % (p[0], p[1]))
        else:
            notes.append('%s..%s' % (p[0], p[1]))
    elif a.vtype == 'nonEmptyString':
        notes.append('not empty')
    elif a.vtype == 'timeSpanRange':
        p = [x.strip() for x in a.vparam.split(',')]
        notes.append('%s..%s seconds' % (p[0], p[1]))
    elif a.vtype == 'applicationPoolName':
        notes.append('no | < > & "')
    elif a.vtype == 'siteName':
        notes.append('no / \\ . ?')
    elif a.vtype == 'trimWhiteSpaceString':
        notes.append('no leading or trailing white space')
    if a.expanded:
        notes.append('%VARIABLES% expanded')
    if a.case_sensitive:
        notes.append('case-sensitive')
    if a.allow_infinite:
        notes.append('"Infinite" allowed')
    if a.type == 'timeSpan' and a.ts_format != 'string':
        notes.append('a number of %s' % a.ts_format)
    notes += a.notes
    return '; '.join(notes)


def default_text(a):
    if a.default is None:
        return '—' if a.required else ('`""`' if a.type == 'string' else '—')
    return code(a.default)


def rows(edef, prefix, out):
    for a in edef.attrs.values():
        out.append('| `%s@%s` | %s | %s | %s |' % (prefix.rstrip('/'), a.name, a.type, esc(default_text(a)), esc(attr_notes(a)))
                   if prefix else
                   '| `%s` | %s | %s | %s |' % (a.name, a.type, esc(default_text(a)), esc(attr_notes(a))))
    for name, sub in edef.elements.items():
        p = prefix + name + '/'
        notes = []
        if sub.is_coll_default:
            notes.append('defaults for the entries of the collection')
        notes += sub.notes
        out.append('| `%s` | element | | %s |' % (p.rstrip('/'), esc('; '.join(notes))))
        rows(sub, p, out)
    c = edef.collection
    if c:
        p = prefix + c.add + '/'
        directives = ['add `<%s>`' % c.add]
        if c.remove:
            directives.append('remove `<%s>`' % c.remove)
        if c.clear:
            directives.append('clear `<%s>`' % c.clear)
        notes = ['collection: ' + ', '.join(directives)]
        keys = c.item.keys()
        if keys:
            notes.append('key: ' + ', '.join('`%s`' % k.name for k in keys))
        if not c.merge_append:
            notes.append('entries of a deeper level come before the inherited ones (mergeAppend="false")')
        if c.allow_duplicates:
            notes.append('duplicates allowed')
        if c.allow_unrecognized:
            notes.append('other attributes allowed')
        if c.default_element:
            notes.append('defaults in `%s`' % c.default_element)
        notes += c.notes
        out.append('| `%s` | collection | | %s |' % (p.rstrip('/'), esc('; '.join(notes))))
        rows(c.item, p, out)


def render(schema_dir, apphost):
    schema, errors = load_schema([schema_dir])
    if errors:
        raise SystemExit('\n'.join(errors))
    regs = registrations(apphost)
    out = []
    out.append('# Configuration schema')
    out.append('')
    out.append('<!-- Generated by config/schema_doc.py from config/schema/*.xml. Do not edit by hand. -->')
    out.append('')
    out.append('Every configuration section iisd knows, with its attributes, their types and defaults, as defined in '
               '[config/schema/iisd_schema.xml](../config/schema/iisd_schema.xml) (IIS schema format; see '
               '[configuration.md](configuration.md) for how iisd reads configuration). Check a file against it with')
    out.append('')
    out.append('    python3 config/check_config.py config/applicationHost.config')
    out.append('    python3 config/check_config.py --apphost config/applicationHost.config path/to/web.config')
    out.append('')
    out.append('How to read the tables: `name` is an attribute of the section element itself; `files/add@value` is '
               'the attribute `value` of the `<add>` entries inside `<files>`. Rows of type *element* and *collection* '
               'introduce the rows below them. An empty default means the attribute is unset (an empty string, or '
               'no value). Values: `bool` is `true` or `false`; `uint`, `int`, `int64` are decimal numbers; '
               '`timeSpan` is `[d.]hh:mm:ss`; an `enum` takes one name or its number; `flags` take names joined '
               'by commas, or the sum of their numbers. Names of enum and flag values are not case-sensitive. '
               '"Delegation" is the registration in the default applicationHost.config: with `Deny` a web.config '
               'may set the section only where a `<location overrideMode="Allow">` unlocks it; `AppHostOnly` '
               'sections belong in applicationHost.config only.')
    out.append('')
    names = sorted(schema.sections, key=lambda n: (not n.startswith('system.applicationHost'), n.lower()))
    out.append('Sections (%d):' % len(names))
    out.append('')
    for n in names:
        anchor = n.lower().replace('/', '').replace('.', '')
        out.append('- [%s](#%s)' % (n, anchor))
    out.append('')
    for n in names:
        sdef = schema.sections[n]
        out.append('## %s' % n)
        out.append('')
        reg = regs.get(n)
        if reg:
            out.append('Delegation: overrideModeDefault `%s`, allowDefinition `%s`.' % reg)
            out.append('')
        for note in sdef.notes:
            out.append(note)
            out.append('')
        out.append('| attribute | type | default | notes |')
        out.append('|---|---|---|---|')
        body = []
        rows(sdef, '', body)
        if not body:
            body.append('| (none) | | | |')
        out += body
        out.append('')
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='exit 1 if the generated file is out of date')
    ap.add_argument('--stdout', action='store_true', help='print the document instead of writing it')
    ap.add_argument('--schema', default=os.path.join(HERE, 'schema'))
    ap.add_argument('--apphost', default=os.path.join(HERE, 'applicationHost.config'))
    ap.add_argument('--output', default=OUT)
    args = ap.parse_args()
    text = render(args.schema, args.apphost)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            with open(args.output, encoding='utf-8') as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print('%s is out of date: run python3 config/schema_doc.py' % os.path.relpath(args.output))
            return 1
        print('ok')
        return 0
    with open(args.output, 'w', encoding='utf-8') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
