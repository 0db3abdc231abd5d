"""Console URLs. Every page needs a login (LoginRequiredMiddleware) except the login page and the language
switch; static files are served before Django by WhiteNoise."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import set_language

from broadcaster.web.views import (
    approvals,
    asrun,
    audit,
    breakin,
    bulletins,
    dashboard,
    feed,
    library,
    plan,
    playlists,
    reports,
    schedule,
    users,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/panel/", dashboard.dashboard_panel, name="dashboard_panel"),
    path("plan/", plan.plan, name="plan"),
    path("schedule/", schedule.schedule, name="schedule"),
    path("schedule/<str:kind>/new/", schedule.edit_window, name="window_new"),
    path("schedule/<str:kind>/<str:window_id>/", schedule.edit_window, name="window_edit"),
    path("schedule/<str:kind>/<str:window_id>/delete/", schedule.delete_window, name="window_delete"),
    path("playlists/", playlists.playlists, name="playlists"),
    path("playlists/<str:name>/edit/", playlists.edit_playlist, name="playlist_edit"),
    path("library/", library.library, name="library"),
    path("library/upload/", library.upload, name="library_upload"),
    path("library/waiting/", approvals.waiting, name="approvals"),
    path("library/<str:sha256>/decide/", approvals.decide, name="library_decide"),
    path("library/<str:sha256>/audio/", library.listen, name="library_listen"),
    path("library/<str:sha256>/edit/", library.edit, name="library_edit"),
    path("library/<str:sha256>/retire/", library.shelve, {"back": False}, name="library_retire"),
    path("library/<str:sha256>/restore/", library.shelve, {"back": True}, name="library_restore"),
    path("bulletins/", bulletins.bulletin_list, name="bulletins"),
    path("bulletins/new/", bulletins.new, name="bulletin_new"),
    path("bulletins/<int:bulletin_id>/", bulletins.show, name="bulletin"),
    path("bulletins/<int:bulletin_id>/edit/", bulletins.edit, name="bulletin_edit"),
    path("bulletins/<int:bulletin_id>/audio/", bulletins.listen, name="bulletin_audio"),
    path("bulletins/<int:bulletin_id>/decide/", bulletins.decide, name="bulletin_decide"),
    path("breakin/", breakin.breakin, name="breakin"),
    path("breakin/send/", breakin.send, name="breakin_send"),
    path("breakin/<str:request_id>/aired/", breakin.aired, name="breakin_aired"),
    path("asrun/", asrun.asrun, name="asrun"),
    path("asrun/export.csv", asrun.asrun_csv, name="asrun_csv"),
    path("reports/", reports.reports, name="reports"),
    path("reports/download/", reports.download_report, name="report_download"),
    path("reports/logbook/", reports.download_logbook, name="logbook_download"),
    path("feed/", feed.feed, name="feed"),
    path("users/", users.users, name="users"),
    path("users/change/", users.change, name="users_change"),
    path("audit/", audit.audit_page, name="audit"),
]
