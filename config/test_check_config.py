#!/usr/bin/env python3
"""Self-test of config/check_config.py, config/schema/ and config/applicationHost.config.

    python3 config/test_check_config.py        (or: python3 -m pytest config/test_check_config.py)

The default configuration must pass; each deliberately broken copy must fail with
"file:line: message" naming the attribute or element at fault.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, 'check_config.py')
SCHEMA = os.path.join(HERE, 'schema')
APPHOST = os.path.join(HERE, 'applicationHost.config')


def run(*args):
    p = subprocess.run([sys.executable, CHECK, '--schema', SCHEMA] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


# (name, text to replace in applicationHost.config, replacement, expected line content, words in the message)
BROKEN = [
    ('bool', '<directoryBrowse enabled="false"', '<directoryBrowse enabled="no"',
     'directoryBrowse', ['enabled', 'directoryBrowse', 'bool']),
    ('enum', 'errorMode="DetailedLocalOnly"', 'errorMode="Verbose"', 'errorMode', ['errorMode', 'Verbose']),
    ('flags', 'showFlags="Date, Time, Size, Extension"', 'showFlags="Date, Tme"', 'showFlags', ['showFlags', 'Tme']),
    ('timespan', '<limits connectionTimeout="00:02:00"', '<limits connectionTimeout="2 min"',
     'connectionTimeout', ['connectionTimeout', 'time span']),
    ('uint', 'maxAllowedContentLength="30000000"', 'maxAllowedContentLength="-5"',
     'maxAllowedContentLength', ['maxAllowedContentLength', 'uint']),
    ('range', '<error statusCode="401"', '<error statusCode="301"', 'statusCode="301"', ['statusCode', '400..999']),
    ('unknown attribute', '<httpRedirect enabled="false" />', '<httpRedirect enabled="false" destnation="/x" />',
     'destnation', ['unknown attribute destnation']),
    ('unknown element', '<httpTracing />', '<httpTracing><traceUrl value="/a" /></httpTracing>',
     'traceUrl ', ['unknown element <traceUrl>']),
    ('unregistered section', '<httpTracing />', '<rewrite />', '<rewrite', ['rewrite', 'not a registered section']),
    ('required', '<binding protocol="http" bindingInformation="127.0.0.1:%IISD_PORT%:" />',
     '<binding protocol="http" />', '<binding', ['bindingInformation', 'required']),
    ('duplicate key', '<add value="index.htm" />', '<add value="index.htm" />\n<add value="INDEX.htm" />',
     'INDEX.htm', ['duplicate', 'value="INDEX.htm"']),
    ('duplicate combined key', 'statusCode="403"', 'statusCode="401" subStatusCode="-1"',
     'subStatusCode', ['duplicate', 'statusCode="401"', 'subStatusCode="-1"']),
    ('lock list', 'lockAttributes="isDocFooterFileName"', 'lockAttributes="isDocFooter"',
     'lockAttributes', ['lockAttributes', 'isDocFooter']),
    ('section twice', '<httpTracing />', '<modules />', '<modules', ['system.webServer/modules', 'twice']),
    ('registration', '<section name="cgi" overrideModeDefault="Deny" />',
     '<section name="cgi" overrideModeDefault="Never" />', 'name="cgi"', ['overrideModeDefault', 'Never']),
]


class DefaultConfig(unittest.TestCase):
    def test_default_config_passes(self):
        rc, out, err = run('--strict', APPHOST)
        self.assertEqual((rc, out.strip()), (0, 'ok'), out + err)

    def test_counts(self):
        text = open(APPHOST, encoding='utf-8').read()
        self.assertGreaterEqual(len(re.findall(r'<mimeMap ', text)), 250)
        schema = open(os.path.join(SCHEMA, 'iisd_schema.xml'), encoding='utf-8').read()
        self.assertGreaterEqual(len(re.findall(r'<sectionSchema ', schema)), 43)

    def test_web_config(self):
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, 'web.config')
            with open(good, 'w') as f:
                f.write('<configuration><system.webServer>'
                        '<defaultDocument><files><clear /><add value="home.html" /></files></defaultDocument>'
                        '<modules><add name="Hello" /></modules>'
                        '<handlers><add name="Hello" path="/hello" verb="GET" modules="Hello" /></handlers>'
                        '</system.webServer></configuration>\n')
            rc, out, _ = run('--apphost', APPHOST, good)
            self.assertEqual((rc, out.strip()), (0, 'ok'), out)
            bad = os.path.join(d, 'bad.config')
            with open(bad, 'w') as f:
                f.write('<configuration>\n<system.webServer>\n<globalModules />\n<security><authentication>\n'
                        '<basicAuthentication enabled="true" />\n</authentication></security>\n'
                        '</system.webServer></configuration>\n')
            rc, out, _ = run('--apphost', APPHOST, bad)
            self.assertEqual(rc, 1)
            self.assertIn(bad + ':3: section system.webServer/globalModules can only be set in applicationHost.config', out)
            self.assertIn(bad + ':5: section system.webServer/security/authentication/basicAuthentication is locked', out)


class BrokenCopies(unittest.TestCase):
    def test_broken(self):
        source = open(APPHOST, encoding='utf-8').read()
        with tempfile.TemporaryDirectory() as d:
            for name, old, new, line_text, words in BROKEN:
                with self.subTest(name):
                    self.assertIn(old, source)
                    path = os.path.join(d, name.replace(' ', '_') + '.config')
                    text = source.replace(old, new, 1)
                    with open(path, 'w', encoding='utf-8') as f:
                        f.write(text)
                    rc, out, _ = run(path)
                    self.assertEqual(rc, 1, out)
                    m = re.match(re.escape(path) + r':(\d+): (.*)', out)
                    self.assertTrue(m, out)
                    line = text.split('\n')[int(m.group(1)) - 1]
                    self.assertIn(line_text, line, out)
                    for w in words:
                        self.assertIn(w, m.group(2))


if __name__ == '__main__':
    unittest.main()
