"""Synthetic holiday notices for tests: invented dates in years no package covers.

Nothing here is an official notice. The reference strings say so, so that a synthetic
file can never be mistaken for the real one.
"""

from __future__ import annotations

SYNTHETIC_2031 = """\
# SYNTHETIC test notice: invented dates, not an official State Council notice.
year = 2031
reference = "SYNTHETIC-2031-1（测试用，非官方）"
issued_on = 2030-11-10

[[holidays]]
name = "测试假期甲"
from = 2031-10-01
to = 2031-10-07
days = 7
workdays = [2031-09-28, 2031-10-11]
"""

# The same year corrected: a shorter break and one make-up day.
SYNTHETIC_2031_V2 = """\
# SYNTHETIC test notice, corrected: invented dates, not an official notice.
year = 2031
reference = "SYNTHETIC-2031-2（测试用，非官方）"
issued_on = 2030-11-20

[[holidays]]
name = "测试假期甲"
from = 2031-10-01
to = 2031-10-05
workdays = [2031-09-28]
"""

SYNTHETIC_2032 = """\
# SYNTHETIC test notice: invented dates, not an official State Council notice.
year = 2032
reference = "SYNTHETIC-2032-1（测试用，非官方）"
issued_on = 2031-11-10

[[holidays]]
name = "测试假期乙"
from = 2032-01-01
to = 2032-01-03
"""

# Fri 2031-09-26 + 5 working days: Mon-Fri only 2031-10-03; with SYNTHETIC_2031 (Sun 09-28
# is a make-up workday, 10-01..10-07 off) 2031-10-09; with SYNTHETIC_2031_V2 2031-10-07.
RECEIVED = "2031-09-26"
DUE_MON_FRI, DUE_V1, DUE_V2 = "2031-10-03", "2031-10-09", "2031-10-07"
