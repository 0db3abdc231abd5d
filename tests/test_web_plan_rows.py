"""The plan page's item rows, made by the view rather than the template (issue 13, speed): each cell as the
template showed it — times in the station's zone, the topic's name, the placing rule — and every text escaped."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from broadcaster.model import Level, PlannedItem
from broadcaster.web.views.plan import item_rows


def test_item_rows_show_station_times_topic_names_and_escape_every_text():
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    item = PlannedItem(start=datetime(2021, 2, 22, 17, 5, 3, 600000, tzinfo=zone),
                       end=datetime(2021, 2, 22, 17, 7, 0, tzinfo=zone), slot="chieu", category="bluezone",
                       title='Bài <b>"mới"</b> & cũ', file="bluezone/a&b.mp3", sha256="0" * 64, gain_db=0.0,
                       duration=117.0, level=Level.PRIORITY)
    html = str(item_rows([item], {}, {"bluezone": "Cài đặt <Bluezone>"}))
    cells = html.removeprefix("<tr><td>").removesuffix("</td></tr>").split("</td><td")
    assert cells == ["17:05:03", ">17:07:00", ">chieu", ">Cài đặt &lt;Bluezone&gt;",
                     ">Bài &lt;b&gt;&quot;mới&quot;&lt;/b&gt; &amp; cũ", "><code>bluezone/a&amp;b.mp3</code>",
                     ' class="rule">level priority']
    assert item_rows([], {}, {}) == ""
