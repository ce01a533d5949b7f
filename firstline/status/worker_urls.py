from django.urls import path

from firstline.status import worker_views as views

app_name = "screening"
urlpatterns = [
    path("r/<str:code>/checkins/new/", views.checkin_new, name="checkin_new"),
    path("r/<str:code>/referrals/new/", views.referral_new, name="referral_new"),
    path("r/<str:code>/isolation/new/", views.isolation_new, name="isolation_new"),
    path("isolation/<str:code>/extend/", views.isolation_extend, name="isolation_extend"),
    path("isolation/<str:code>/release/", views.isolation_release, name="isolation_release"),
    path("referrals/<str:code>/update/", views.referral_update, name="referral_update"),
    path("observations/<str:code>/close/", views.observation_close, name="observation_close"),
    path("c/<str:community>/arrivals/new/", views.arrival_new, name="arrival_new"),
    path("c/<str:community>/arrivals/<str:code>/", views.arrival, name="arrival"),
    path("c/<str:community>/rules/", views.community_rules, name="community_rules"),
    path("s/<str:street>/risk-areas/", views.risk_areas, name="risk_areas"),
    path("s/<str:street>/risk-areas/<str:code>/end/", views.risk_area_end, name="risk_area_end"),
]
