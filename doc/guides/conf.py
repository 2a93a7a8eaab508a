# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vhost-pci for DPDK authors
#
# Sphinx configuration of the vhost-pci for DPDK guides. Only what Debian's
# python3-sphinx ships is used: no extension, a built-in theme.

import os
import re

project = 'vhost-pci for DPDK'
copyright = '2026, The vhost-pci for DPDK authors'
author = 'The vhost-pci for DPDK authors'


def _project_version():
    """The version in the top meson.build's project() call."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       '..', '..', 'meson.build')
    try:
        with open(top, encoding='utf-8') as f:
            m = re.search(r"version:\s*'([^']+)'", f.read())
    except OSError:
        m = None
    return m.group(1) if m else 'unknown'


version = release = _project_version()

extensions = []
master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = ['html', 'doctrees']
# Literal blocks are commands, logs and tables, not Python.
highlight_language = 'none'
pygments_style = 'sphinx'

html_theme = 'classic'
html_title = project + ' ' + version
html_show_sourcelink = False
html_static_path = []
html_copy_source = False
