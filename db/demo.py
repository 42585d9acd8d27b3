"""Demo data: a used-car dealership group with three UAE service centres, its customers and their cars.

`seed_demo(session, now)` fills an empty, migrated database in the caller's transaction (it flushes,
never commits). The result depends only on `now` and one seeded `random.Random`, so every run gives the
same rows; every date is derived from `now` in Dubai time. The data is planned first as plain values
(customers, fleet), then written as ORM rows: catalogue, people, vehicles, their history, recalls, stock.

Two customers are fixed for demos: +971501234567 "Ahmed Al Mansouri" (English; a Land Cruiser under an
open fuel-pump recall and a Lexus whose warranty ends in 32-58 days) and +971552345678 "فاطمة الهاشمي"
(Arabic; one Nissan Patrol). Staff, appointments, complaints, claims and outbox rows are left to the
features that create them.
"""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Base,
    Bay,
    Branch,
    BranchHours,
    Customer,
    InspectionItem,
    InspectionReport,
    MaintenancePlan,
    ModelFigures,
    MileageReading,
    PackageSubscription,
    Recall,
    RecallCompletion,
    ServicePackage,
    ServiceRecord,
    ServiceType,
    StockVehicle,
    UpgradeWish,
    Vehicle,
    VehicleDocument,
    Warranty,
    WarrantyTier,
)

SEED = 20261127
DUBAI = ZoneInfo("Asia/Dubai")


class DemoAlreadySeeded(Exception):
    """The database already holds customers or branches; the demo only fills an empty one."""


# --- branches ----------------------------------------------------------------------------------------

BRANCHES: tuple[dict[str, Any], ...] = (
    dict(
        code="dubai", name_en="Dubai Service Centre (Al Quoz)", name_ar="مركز الخدمة في دبي (القوز)",
        city_en="Dubai", city_ar="دبي",
        address_en="Warehouse 14, 4th Street, Al Quoz Industrial Area 3, off Sheikh Zayed Road, Dubai",
        address_ar="مستودع 14، الشارع الرابع، منطقة القوز الصناعية 3، بالقرب من شارع الشيخ زايد، دبي",
        phone="+97143216540", emergency_phone="+97180038624",
        latitude=Decimal("25.137210"), longitude=Decimal("55.230640"), courtesy_cars=5, offers_mobile_service=True,
    ),
    dict(
        code="abu-dhabi", name_en="Abu Dhabi Service Centre (Mussafah)", name_ar="مركز الخدمة في أبوظبي (مصفح)",
        city_en="Abu Dhabi", city_ar="أبوظبي",
        address_en="Plot 27, Sector M-13, Mussafah Industrial Area, Abu Dhabi",
        address_ar="قطعة 27، قطاع م-13، منطقة مصفح الصناعية، أبوظبي",
        phone="+97125512340", emergency_phone="+97180022437",
        latitude=Decimal("24.347020"), longitude=Decimal("54.502110"), courtesy_cars=4, offers_mobile_service=True,
    ),
    dict(
        code="sharjah", name_en="Sharjah Service Centre (Industrial Area)",
        name_ar="مركز الخدمة في الشارقة (المنطقة الصناعية)",
        city_en="Sharjah", city_ar="الشارقة",
        address_en="Street 10, Industrial Area 5, near Al Wahda Street, Sharjah",
        address_ar="الشارع 10، المنطقة الصناعية 5، بالقرب من شارع الوحدة، الشارقة",
        phone="+97165437890", emergency_phone="+97180074277",
        latitude=Decimal("25.307450"), longitude=Decimal("55.405830"), courtesy_cars=2, offers_mobile_service=False,
    ),
)

# Opening periods per weekday, Monday first; Friday has the prayer break, evenings run to 21:00/22:00.
BRANCH_HOURS: dict[str, tuple[str, ...]] = {
    "dubai": ("08:00-20:00", "08:00-20:00", "08:00-21:00", "08:00-22:00",
              "08:00-12:00 14:30-21:00", "08:00-21:00", "08:00-20:00"),
    "abu-dhabi": ("07:30-20:00", "07:30-20:00", "07:30-21:00", "07:30-21:00",
                  "08:00-12:00 14:30-20:00", "08:00-21:00", "08:00-20:00"),
    "sharjah": ("08:00-20:00", "08:00-20:00", "08:00-20:00", "08:00-21:00",
                "08:00-12:00", "08:00-20:00", "09:00-18:00"),
}

BAYS: dict[str, tuple[int, int]] = {"dubai": (10, 6), "abu-dhabi": (8, 5), "sharjah": (6, 3)}  # (bays, with lift)

# --- service catalogue -------------------------------------------------------------------------------

# code, name_en, name_ar, minutes, price AED, needs_lift, mobile_eligible, express_eligible
SERVICE_TYPES: tuple[tuple[str, str, str, int, int, bool, bool, bool], ...] = (
    ("oil_change", "Engine oil & filter change", "تغيير زيت المحرك والفلتر", 45, 295, False, True, True),
    ("minor_service", "Minor service", "الصيانة الدورية الصغرى", 120, 575, True, False, False),
    ("major_service", "Major service", "الصيانة الدورية الكبرى", 300, 1850, True, False, False),
    ("air_conditioning", "AC service & regas", "صيانة المكيف وتعبئة الغاز", 90, 349, False, False, False),
    ("brakes", "Brake pads replacement", "تبديل فحمات الفرامل", 90, 650, True, False, False),
    ("tyres", "Tyre rotation & balancing", "تدوير الإطارات وموازنتها", 45, 149, True, False, True),
    ("battery", "Battery test & replacement", "فحص البطارية وتبديلها", 30, 495, False, True, True),
    ("wheel_alignment", "Wheel alignment", "ضبط زوايا العجلات", 60, 199, True, False, True),
    ("inspection", "Multi-point inspection", "فحص شامل متعدد النقاط", 60, 199, False, True, True),
    ("diagnostics", "Computer diagnostics", "فحص الأعطال بالكمبيوتر", 60, 250, False, False, True),
    ("detailing", "Detailing & interior cleaning", "تلميع السيارة وتنظيفها من الداخل", 180, 450, False, False, False),
    ("car_wash", "Car wash", "غسيل السيارة", 30, 60, False, True, True),
)

MAINTENANCE_PLANS: tuple[tuple[str, str, int, int], ...] = (  # make, model, km, months
    ("*", "*", 10_000, 6),
    ("Toyota", "*", 10_000, 6),
    ("Lexus", "*", 10_000, 6),
    ("Nissan", "Patrol", 10_000, 6),
    ("Mercedes-Benz", "*", 15_000, 12),
    ("BMW", "*", 15_000, 12),
    ("Land Rover", "*", 16_000, 12),
)

# The workshop's figures for the demo customers' models, which car-care answers quote: make, model, years,
# tyre pressures front/rear (psi, cold), oil grade, oil litres with the filter, lowest fuel grade (RON).
# None: not on the data sheet (the Land Cruiser's oil depends on the engine), so the answer points to the
# manual. Demo data: a dealership going live imports its own sheet (`dealerbot db import model-figures`).
MODEL_FIGURES: tuple[tuple[str, str, int, int, int | None, int | None, str | None, str | None, int | None], ...] = (
    ("Toyota", "Land Cruiser", 2016, 2021, 33, 33, None, None, 91),
    ("Lexus", "ES", 2019, 2025, 36, 36, "0W-20", "4.5", 91),
    ("Nissan", "Patrol", 2014, 2025, 35, 35, "5W-30", "6.5", 95),
)
MODEL_FIGURES_SOURCE = "Workshop data sheet (demo)"
MODEL_FIGURES_UPDATED = date(2026, 10, 1)

# code, name_en, name_ar, price AED, months, discount %
SERVICE_PACKAGES: tuple[tuple[str, str, str, int, int, int], ...] = (
    ("care_1y", "Care 1 Year", "باقة العناية - سنة واحدة", 1290, 12, 10),
    ("care_2y", "Care 2 Years", "باقة العناية - سنتان", 2390, 24, 15),
    ("care_plus_3y", "Care Plus 3 Years", "باقة العناية بلس - 3 سنوات", 3490, 36, 20),
)

# --- warranty tiers ----------------------------------------------------------------------------------

_EXCLUDED = ["tyres", "brake_pads", "brake_discs", "wiper_blades", "battery", "bodywork",
             "upholstery", "glass", "accident_damage", "wear_and_tear"]
_BASIC = ["engine", "transmission"]
_EXTENDED = _BASIC + ["electrical", "cooling", "fuel_system", "steering", "turbo"]
_COMPREHENSIVE = _EXTENDED + ["air_conditioning", "suspension", "brakes", "infotainment"]

WARRANTY_TIERS: tuple[dict[str, Any], ...] = (
    dict(
        code="basic", rank=1, name_en="Basic Cover", name_ar="التغطية الأساسية",
        description_en="Engine and transmission for 6 months or 10,000 km, whichever comes first.",
        description_ar="تغطية المحرك وناقل الحركة لمدة 6 أشهر أو 10,000 كم، أيهما أسبق.",
        duration_months=6, mileage_limit_km=10_000, covered_components=_BASIC,
        excluded_components=_EXCLUDED, price_aed=Decimal("950.00"),
    ),
    dict(
        code="extended", rank=2, name_en="Extended Cover", name_ar="التغطية الممتدة",
        description_en="Engine, transmission, electrical system, cooling, fuel system, steering and "
        "turbocharger for 24 months or 40,000 km, whichever comes first.",
        description_ar="تغطية المحرك وناقل الحركة والنظام الكهربائي ونظام التبريد ونظام الوقود والتوجيه "
        "والشاحن التوربيني لمدة 24 شهراً أو 40,000 كم، أيهما أسبق.",
        duration_months=24, mileage_limit_km=40_000, covered_components=_EXTENDED,
        excluded_components=_EXCLUDED, price_aed=Decimal("2450.00"),
    ),
    dict(
        code="comprehensive", rank=3, name_en="Comprehensive Cover", name_ar="التغطية الشاملة",
        description_en="Everything in Extended Cover plus air conditioning, suspension, brake system "
        "components and infotainment for 36 months or 80,000 km, whichever comes first. Wear parts "
        "such as brake pads and tyres are not covered.",
        description_ar="كل ما تشمله التغطية الممتدة، بالإضافة إلى المكيف ونظام التعليق ومكونات نظام الفرامل "
        "ونظام المعلومات والترفيه، لمدة 36 شهراً أو 80,000 كم، أيهما أسبق. لا تشمل قطع الاستهلاك مثل "
        "فحمات الفرامل والإطارات.",
        duration_months=36, mileage_limit_km=80_000, covered_components=_COMPREHENSIVE,
        excluded_components=_EXCLUDED, price_aed=Decimal("4950.00"),
    ),
)

# --- customers ---------------------------------------------------------------------------------------

# phone, name, language, e-mail local part, home branch
DEMO_CUSTOMERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("+971501234567", "Ahmed Al Mansouri", "en", "ahmed.almansouri", "dubai"),
    ("+971552345678", "فاطمة الهاشمي", "ar", "fatima.alhashemi", "abu-dhabi"),
)

ARABIC_NAMES: tuple[tuple[str, str], ...] = (  # name, e-mail local part
    ("محمد الشامسي", "mohammed.alshamsi"), ("خالد المزروعي", "khalid.almazrouei"),
    ("سعيد الكعبي", "saeed.alkaabi"), ("مريم النعيمي", "mariam.alnuaimi"),
    ("راشد الفلاسي", "rashid.alfalasi"), ("عائشة الظاهري", "aisha.aldhaheri"),
    ("سلطان السويدي", "sultan.alsuwaidi"), ("حمدان المهيري", "hamdan.almheiri"),
    ("شيخة الرميثي", "shaikha.alromaithi"), ("عبدالله القاسمي", "abdulla.alqasimi"),
    ("نورة البلوشي", "noura.albalushi"), ("ماجد الزعابي", "majid.alzaabi"),
    ("حصة الكتبي", "hessa.alketbi"), ("سيف العامري", "saif.alameri"),
    ("موزة الحمادي", "moza.alhammadi"), ("يوسف النقبي", "yousef.alnaqbi"),
    ("هند الطنيجي", "hind.altunaiji"), ("علي الشحي", "ali.alshehhi"),
    ("ريم الحوسني", "reem.alhosani"), ("عمر المرزوقي", "omar.almarzooqi"),
    ("أحمد المري", "ahmed.almarri"), ("سارة العلي", "sara.alali"),
    ("حمد الدرمكي", "hamad.aldarmaki"), ("كريم عبد الرحمن", "karim.abdelrahman"),
    ("ليلى حداد", "layla.haddad"), ("رامي الخطيب", "rami.alkhatib"),
    ("منى السيد", "mona.elsayed"), ("طارق العتيبي", "tariq.alotaibi"),
    ("نوال الزرعوني", "nawal.alzarooni"), ("جاسم المطوع", "jassim.almutawa"),
)

LATIN_NAMES: tuple[tuple[str, str], ...] = (  # name, language (Arabs writing in Latin script prefer Arabic)
    ("Rajesh Kumar Nair", "en"), ("Priya Menon", "en"), ("Mohammed Irfan Shaikh", "en"),
    ("Ayesha Siddiqui", "en"), ("Bilal Qureshi", "en"), ("Maria Santos", "en"), ("Jose Dela Cruz", "en"),
    ("Angelica Reyes", "en"), ("James Whitfield", "en"), ("Sarah Thompson", "en"), ("Oliver Bennett", "en"),
    ("Dmitry Volkov", "en"), ("Anastasia Petrova", "en"), ("Mostafa Abdelaziz", "ar"), ("Rania Farouk", "ar"),
    ("Omar Haddad", "en"), ("Sanjay Gupta", "en"), ("Deepa Krishnan", "en"), ("Arjun Reddy", "en"),
    ("Hassan Raza", "en"), ("Kevin O'Brien", "en"), ("Sophie Laurent", "en"), ("Marco Rossi", "en"),
    ("Chen Wei", "en"), ("Grace Wanjiru", "en"), ("Imran Yousafzai", "en"), ("Nikhil Joshi", "en"),
    ("Elena Ivanova", "en"), ("Youssef Benali", "ar"),
)

MOBILE_PREFIXES = ("50", "52", "54", "55", "56", "58")
EMAIL_DOMAINS = ("example.ae", "example.com")
HOME_BRANCH_WEIGHTS = {"dubai": 5, "abu-dhabi": 3, "sharjah": 2}

# --- vehicles ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    make: str
    model: str
    wmi: str  # world manufacturer identifier: VIN positions 1-3
    vds: str  # vehicle descriptor: VIN positions 4-8
    first_year: int
    last_year: int
    weight: int  # how common it is on UAE roads, relatively


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("Toyota", "Land Cruiser", "JTM", "HY7AJ", 2015, 2025, 7),
    ModelSpec("Toyota", "Prado", "JTE", "BH3FJ", 2015, 2025, 5),
    ModelSpec("Toyota", "Camry", "JTN", "B11HK", 2015, 2025, 5),
    ModelSpec("Toyota", "Corolla", "JTD", "BR32E", 2015, 2025, 4),
    ModelSpec("Toyota", "Hilux", "MR0", "HA3CD", 2015, 2025, 2),
    ModelSpec("Toyota", "Fortuner", "MR0", "KA3FS", 2016, 2025, 2),
    ModelSpec("Nissan", "Patrol", "JN8", "AY2NY", 2015, 2025, 6),
    ModelSpec("Nissan", "Altima", "1N4", "BL4BV", 2015, 2025, 3),
    ModelSpec("Nissan", "Sunny", "MDH", "BN7AD", 2015, 2025, 3),
    ModelSpec("Nissan", "X-Trail", "JN1", "TBNT3", 2015, 2025, 2),
    ModelSpec("Lexus", "LX", "JTJ", "HY00W", 2015, 2025, 3),
    ModelSpec("Lexus", "ES", "JTH", "B1BGA", 2015, 2025, 3),
    ModelSpec("Lexus", "RX", "JTJ", "BZMCA", 2016, 2025, 2),
    ModelSpec("Mitsubishi", "Pajero", "JMY", "LYV98", 2015, 2021, 2),
    ModelSpec("Mitsubishi", "Lancer", "JMY", "SRCY4", 2015, 2017, 1),
    ModelSpec("Hyundai", "Tucson", "KMH", "J381A", 2016, 2025, 2),
    ModelSpec("Hyundai", "Elantra", "KMH", "D841C", 2015, 2025, 2),
    ModelSpec("Hyundai", "Sonata", "KMH", "E341D", 2015, 2025, 1),
    ModelSpec("Kia", "Sportage", "KNA", "PM81A", 2016, 2025, 2),
    ModelSpec("Kia", "Sorento", "KNA", "RM81B", 2015, 2025, 1),
    ModelSpec("Honda", "Accord", "JHM", "CV1F3", 2015, 2025, 2),
    ModelSpec("Honda", "Civic", "JHM", "FC1F7", 2016, 2025, 2),
    ModelSpec("Ford", "Explorer", "1FM", "5K8GC", 2015, 2025, 2),
    ModelSpec("Ford", "Edge", "2FM", "PK4J9", 2015, 2024, 1),
    ModelSpec("Chevrolet", "Tahoe", "1GN", "SKBKC", 2015, 2025, 2),
    ModelSpec("Chevrolet", "Silverado", "1GC", "UYDED", 2015, 2025, 1),
    ModelSpec("GMC", "Yukon", "1GK", "S2BKC", 2015, 2025, 2),
    ModelSpec("Mercedes-Benz", "C-Class", "WDD", "WF4KB", 2015, 2025, 2),
    ModelSpec("Mercedes-Benz", "E-Class", "WDD", "ZF4JB", 2015, 2025, 2),
    ModelSpec("Mercedes-Benz", "GLE", "4JG", "FB4KB", 2016, 2025, 2),
    ModelSpec("BMW", "3 Series", "WBA", "5R110", 2015, 2025, 2),
    ModelSpec("BMW", "X5", "5UX", "CR610", 2015, 2025, 2),
    ModelSpec("Land Rover", "Range Rover", "SAL", "GA2BE", 2015, 2025, 2),
    ModelSpec("Land Rover", "Defender", "SAL", "EA7BU", 2020, 2025, 2),
)
MODEL_BY_NAME = {(m.make, m.model): m for m in MODELS}

# Vehicles placed on purpose: the demo customers' cars and enough cars for each recall to match.
# owner (customer index), make, model, year, days since purchase (None: warranty ends in 30-60 days), tier
PINNED_FLEET: tuple[tuple[int, str, str, int, int | None, str | None], ...] = (
    (0, "Toyota", "Land Cruiser", 2020, 430, "extended"),
    (0, "Lexus", "ES", 2022, None, "extended"),
    (1, "Nissan", "Patrol", 2022, 260, "comprehensive"),
    (3, "Hyundai", "Tucson", 2019, 900, "basic"),
    (5, "Toyota", "Land Cruiser", 2019, 1100, "extended"),
    (9, "Toyota", "Land Cruiser", 2021, 600, "comprehensive"),
    (11, "Hyundai", "Tucson", 2020, 700, None),
    (14, "Toyota", "Land Cruiser", 2020, 820, "basic"),
    (17, "Hyundai", "Tucson", 2021, 380, "extended"),
    (22, "Toyota", "Land Cruiser", 2019, 1300, None),
    (30, "Hyundai", "Tucson", 2020, 150, "comprehensive"),
)
# Body colours as a dealer's records write them; the demo customers' cars are pinned (Ahmed can say "the
# white one" and "the black one"), the others follow from the VIN (not from the random stream, which the
# rest of the demo data depends on).
COLOURS = ("White", "Pearl White", "Black", "Silver", "Grey", "Dark Blue", "Red", "Beige", "Brown", "Gold")
PINNED_COLOURS = {(0, "Land Cruiser"): "Pearl White", (0, "ES"): "Black", (1, "Patrol"): "Silver"}
EXTRA_VEHICLES = 14  # second (and a few third) cars for other customers

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_YEAR_CODES = dict(zip(range(2015, 2026), "FGHJKLMNPRS"))
_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
               **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
DUBAI_PLATE_CODES = tuple("ABCDEFGHJKLMNPRSTUVWXYZ") + ("AA", "BB", "CC", "DD")
ABU_DHABI_PLATE_CODES = (1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 50)

# --- history: service work, inspections, documents ------------------------------------------------------

# work, parts, (lowest, highest cost AED)
MINOR_SERVICE = ("Minor service: engine oil and filter changed, fluids topped up, tyre pressures set, "
                 "multi-point check", ["Engine oil 5W-30 (5 L)", "Oil filter", "Drain plug washer"], (450, 700))
MAJOR_SERVICE = ("Major service: engine oil and filter, air and cabin filters, spark plugs and brake fluid "
                 "replaced, full inspection", ["Engine oil 5W-30 (6 L)", "Oil filter", "Air filter",
                                               "Cabin air filter", "Spark plugs (set)", "Brake fluid DOT 4 (1 L)"],
                 (1200, 2500))
EXTRA_WORK: tuple[tuple[str, list[str], tuple[int, int]], ...] = (
    ("AC service and regas, cabin air filter replaced", ["Refrigerant R134a (600 g)", "Cabin air filter"], (250, 450)),
    ("Front brake pads replaced, discs measured within limits", ["Front brake pads (set)", "Brake cleaner"],
     (400, 900)),
    ("Battery replaced after failing a load test", ["Battery 12 V 80 Ah"], (350, 800)),
    ("Four-wheel alignment and tyre balancing", ["Wheel balancing weights"], (150, 300)),
    ("Four tyres replaced, balanced and aligned", ["Tyres (x4)", "Tyre valves (x4)", "Wheel balancing weights"],
     (1400, 3200)),
    ("Tyre rotation and balancing", ["Wheel balancing weights"], (100, 200)),
    ("Wiper blades replaced", ["Wiper blades (pair)"], (80, 160)),
)

# area, item (en, ar), finding when fixed before delivery (en, ar), finding to watch (en, ar)
INSPECTION_CHECKS: tuple[tuple[str, tuple[str, str], tuple[str, str], tuple[str, str]], ...] = (
    ("engine", ("Engine oil level and condition", "مستوى زيت المحرك وحالته"),
     ("Engine oil and filter changed before delivery", "تم تغيير زيت المحرك والفلتر قبل التسليم"),
     ("Slight oil seepage at the valve cover gasket — recheck at the next service",
      "تسرّب زيت بسيط عند حشية غطاء الصمامات — يُعاد فحصه في الصيانة القادمة")),
    ("engine", ("Drive belt and pulleys", "سير المحرك والبكرات"),
     ("Worn drive belt replaced", "تم استبدال سير المحرك المتآكل"),
     ("Fine cracks on the drive belt — replace within 20,000 km",
      "تشققات دقيقة في سير المحرك — يُستبدل خلال 20,000 كم")),
    ("engine", ("Diagnostic scan for fault codes", "الفحص بالكمبيوتر لرموز الأعطال"),
     ("Faulty oxygen sensor replaced and fault codes cleared", "تم استبدال حساس الأكسجين التالف ومسح رموز الأعطال"),
     ("An old, inactive fault code is stored — recheck at the next service",
      "يوجد رمز عطل قديم غير نشط في الذاكرة — يُعاد فحصه في الصيانة القادمة")),
    ("transmission", ("Gear shifting and transmission fluid", "تبديل السرعات وزيت ناقل الحركة"),
     ("Transmission fluid changed", "تم تغيير زيت ناقل الحركة"),
     ("Slightly firm shift from first to second gear when cold — software update advised",
      "تبديل السرعة من الأولى إلى الثانية قاسٍ قليلاً والمحرك بارد — يُنصح بتحديث البرنامج")),
    ("brakes", ("Front brake pads and discs", "فحمات وأقراص الفرامل الأمامية"),
     ("Front brake pads replaced", "تم استبدال فحمات الفرامل الأمامية"),
     ("Front brake pads at 40% — replace within 10,000 km", "فحمات الفرامل الأمامية عند 40% — تُستبدل خلال 10,000 كم")),
    ("brakes", ("Rear brakes and handbrake", "الفرامل الخلفية وفرامل اليد"),
     ("Handbrake adjusted", "تم ضبط فرامل اليد"),
     ("Light scoring on the rear discs — check at the next service",
      "خدوش خفيفة على الأقراص الخلفية — تُفحص في الصيانة القادمة")),
    ("tyres", ("Tyre tread depth and age", "عمق نقشة الإطارات وعمرها"),
     ("Both front tyres replaced", "تم استبدال الإطارين الأماميين"),
     ("Tyres are over three years old — heat ages rubber, replace before the summer",
      "عمر الإطارات أكثر من ثلاث سنوات — الحرارة تُسرّع تلف المطاط، يُنصح بتبديلها قبل الصيف")),
    ("suspension", ("Shock absorbers and bushes", "ممتصات الصدمات والجلب"),
     ("Front stabiliser link replaced", "تم استبدال وصلة عمود التوازن الأمامية"),
     ("Light wear on the front lower arm bushes — recheck in 6 months",
      "تآكل خفيف في جلب الذراع السفلي الأمامي — يُعاد فحصها بعد 6 أشهر")),
    ("steering", ("Steering and wheel alignment", "نظام التوجيه وضبط زوايا العجلات"),
     ("Wheel alignment corrected", "تم ضبط زوايا العجلات"),
     ("Steering rack boot slightly worn — recheck at the next service",
      "جلدة علبة التوجيه متآكلة قليلاً — يُعاد فحصها في الصيانة القادمة")),
    ("electrical", ("Battery and charging system", "البطارية ونظام الشحن"),
     ("Weak battery replaced", "تم استبدال البطارية الضعيفة"),
     ("Battery health at 70% — summer heat shortens battery life, test again in 6 months",
      "صحة البطارية 70% — حرارة الصيف تقصّر عمر البطارية، يُعاد فحصها بعد 6 أشهر")),
    ("electrical", ("Lights, horn and wipers", "الأضواء والبوق والمساحات"),
     ("Wiper blades and a number-plate bulb replaced", "تم استبدال شفرات المساحات ولمبة إضاءة اللوحة"),
     ("Headlamp lenses slightly hazy — polishing recommended",
      "عدسات المصابيح الأمامية باهتة قليلاً — يُنصح بتلميعها")),
    ("air_conditioning", ("Air conditioning performance", "أداء المكيف"),
     ("AC regassed; vent temperature now 5 °C", "تمت تعبئة غاز المكيف، وحرارة فتحات التهوية الآن 5 درجات مئوية"),
     ("AC cools well but the condenser fins are dusty — clean at the next service",
      "المكيف يبرّد جيداً لكن زعانف المكثف مغبرة — تُنظف في الصيانة القادمة")),
    ("cooling", ("Coolant level and radiator", "مستوى سائل التبريد والرديتر"),
     ("Coolant flushed and replaced", "تم تنظيف نظام التبريد وتبديل سائل التبريد"),
     ("Radiator hose slightly swollen — replace at the next service",
      "خرطوم الرديتر منتفخ قليلاً — يُستبدل في الصيانة القادمة")),
    ("body", ("Paintwork and body panels", "الطلاء وألواح الهيكل"),
     ("Rear bumper scuff repaired and repainted", "تم إصلاح خدش الصدام الخلفي وإعادة طلائه"),
     ("Small stone chips on the bonnet — cosmetic only", "خدوش صغيرة من الحصى على غطاء المحرك — تجميلية فقط")),
    ("body", ("Windscreen and glass", "الزجاج الأمامي والنوافذ"),
     ("Windscreen chip repaired", "تم إصلاح كسر صغير في الزجاج الأمامي"),
     ("Small chip outside the driver's view — keep an eye on it",
      "كسر صغير خارج مجال رؤية السائق — يُرجى مراقبته")),
    ("interior", ("Seats, trim and upholstery", "المقاعد والتجهيزات الداخلية والتنجيد"),
     ("Interior deep-cleaned and sanitised", "تم تنظيف المقصورة وتعقيمها بعمق"),
     ("Light wear on the driver's seat bolster", "تآكل خفيف في جانب مقعد السائق")),
    ("interior", ("Infotainment, cameras and sensors", "نظام المعلومات والترفيه والكاميرات والحساسات"),
     ("Navigation maps updated", "تم تحديث خرائط الملاحة"),
     ("Rear parking sensor works intermittently — recheck", "حساس الركن الخلفي يعمل بشكل متقطع — يُعاد فحصه")),
)

INSPECTORS = ("Suresh Pillai", "Mohammed Rafiq", "Ahmed Youssef", "Joseph Mathew", "Imran Siddiqui", "Ramesh Iyer")

# kind, file name, title (en, ar)
DOCUMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("history_report", "history.pdf", "Vehicle history report", "تقرير تاريخ المركبة"),
    ("certificate", "certificate.pdf", "Certified pre-owned certificate", "شهادة سيارة مستعملة معتمدة"),
    ("service_book", "service-book.pdf", "Service book", "سجل الصيانة"),
)

# --- recalls and stock ---------------------------------------------------------------------------------

RECALLS: tuple[dict[str, Any], ...] = (
    dict(
        campaign_code="TOY-26LC-FP1", make="Toyota", model="Land Cruiser", year_from=2019, year_to=2021,
        title_en="Low-pressure fuel pump may stop working",
        title_ar="قد تتوقف مضخة الوقود منخفضة الضغط عن العمل",
        description_en="The low-pressure fuel pump inside the fuel tank may fail. Warning lights may come on and "
        "the engine may run rough, not start, or stall while driving, which increases the risk of a crash.",
        description_ar="قد تتعطل مضخة الوقود منخفضة الضغط الموجودة داخل خزان الوقود، فتضيء لمبات التحذير وقد يعمل "
        "المحرك بشكل غير منتظم أو لا يدور أو يتوقف أثناء القيادة، مما يزيد من خطر وقوع حادث.",
        remedy_en="We replace the fuel pump with an improved one, free of charge. The work takes about 3 hours.",
        remedy_ar="نستبدل مضخة الوقود بمضخة محسّنة مجاناً، ويستغرق العمل نحو 3 ساعات.",
        repair_minutes=180, repair_needs_lift=True,
        published_days_ago=75,
    ),
    dict(
        campaign_code="HYU-26TU-ABS", make="Hyundai", model="Tucson", year_from=2019, year_to=2021,
        title_en="ABS control module may short-circuit and cause a fire",
        title_ar="قد يحدث تماس كهربائي في وحدة التحكم بنظام منع انغلاق المكابح (ABS) ويتسبب في حريق",
        description_en="Moisture can enter the ABS control module and cause a short circuit, which could start a "
        "fire in the engine compartment even when the car is parked and switched off. Until the remedy is "
        "done, please park outside and away from buildings.",
        description_ar="قد تتسرب الرطوبة إلى وحدة التحكم بنظام ABS وتسبب تماساً كهربائياً قد يؤدي إلى نشوب حريق في "
        "حجرة المحرك حتى وإن كانت السيارة متوقفة ومطفأة. إلى حين إجراء الإصلاح، يُرجى ركن السيارة في مكان "
        "مكشوف بعيداً عن المباني.",
        remedy_en="We replace the ABS fuse with a new lower-rated fuse, free of charge. "
        "The work takes about 30 minutes.",
        remedy_ar="نستبدل فيوز نظام ABS بفيوز جديد ذي قدرة أقل مجاناً، ويستغرق العمل نحو 30 دقيقة.",
        repair_minutes=30, repair_needs_lift=False,
        published_days_ago=210,
    ),
)
COMPLETED_RECALLS = (("TOY-26LC-FP1", 5), ("HYU-26TU-ABS", 3))  # (campaign, owner's customer index)

# make, model, year, km, price AED, branch
STOCK: tuple[tuple[str, str, int, int, int, str], ...] = (
    ("Toyota", "Land Cruiser", 2023, 38_500, 245_000, "dubai"),
    ("Lexus", "LX", 2022, 51_200, 365_000, "dubai"),
    ("Nissan", "Patrol", 2023, 29_800, 215_000, "abu-dhabi"),
    ("Toyota", "Prado", 2022, 47_300, 149_000, "abu-dhabi"),
    ("Mercedes-Benz", "GLE", 2021, 62_000, 189_000, "dubai"),
    ("Land Rover", "Range Rover", 2021, 58_400, 329_000, "dubai"),
    ("Toyota", "Camry", 2023, 33_100, 89_000, "sharjah"),
    ("Hyundai", "Tucson", 2024, 14_900, 84_000, "sharjah"),
)

# customer index, make, model, minimum year, budget AED
UPGRADE_WISHES: tuple[tuple[int, str | None, str | None, int | None, int | None], ...] = (
    (0, "Toyota", "Land Cruiser", 2022, 260_000),
    (7, "Lexus", "LX", 2021, 400_000),
    (12, "Nissan", "Patrol", 2022, 230_000),
    (20, None, None, 2022, 120_000),
)

# --- planning: plain values, no database ----------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPlan:
    phone: str
    name: str
    language: str
    email_local: str
    home: str  # branch code


@dataclass(frozen=True)
class VehiclePlan:
    owner: int
    spec: ModelSpec
    year: int
    purchase: date
    branch: str  # sold it
    home: str  # the owner's branch: the plate's emirate and where the car is serviced
    tier: str | None
    km_at_purchase: int
    km_per_year: int

    def km_on(self, day: date) -> int:
        return self.km_at_purchase + self.km_per_year * (day - self.purchase).days // 365


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[ch] * weight for ch, weight in zip(vin, _VIN_WEIGHTS))
    return "X" if total % 11 == 10 else str(total % 11)


def make_vin(rng: random.Random, spec: ModelSpec, year: int, taken: set[str]) -> str:
    """A VIN with the model's real manufacturer prefix, the model-year code and a valid check digit."""
    while True:
        body = f"{spec.wmi}{spec.vds}0{VIN_YEAR_CODES[year]}{rng.choice(VIN_CHARS)}{rng.randrange(1_000_000):06d}"
        vin = body[:8] + vin_check_digit(body) + body[9:]
        if vin not in taken:
            taken.add(vin)
            return vin


def make_plate(rng: random.Random, branch: str, taken: set[str]) -> str:
    while True:
        if branch == "dubai":
            plate = f"Dubai {rng.choice(DUBAI_PLATE_CODES)} {rng.randint(100, 99_999)}"
        elif branch == "abu-dhabi":
            plate = f"Abu Dhabi {rng.choice(ABU_DHABI_PLATE_CODES)} {rng.randint(1_000, 99_999)}"
        else:
            plate = f"Sharjah {rng.randint(1, 3)} {rng.randint(1_000, 99_999)}"
        if plate not in taken:
            taken.add(plate)
            return plate


def plan_customers(rng: random.Random) -> list[CustomerPlan]:
    """The two demo customers, then Arabic-script and Latin-script names alternately."""
    plans = [CustomerPlan(*row) for row in DEMO_CUSTOMERS]
    phones = {plan.phone for plan in plans}
    others = [(name, "ar", local) for name, local in ARABIC_NAMES]
    latin = [(name, lang, re.sub(r"[^a-z]+", ".", name.lower())) for name, lang in LATIN_NAMES]
    mixed = [row for pair in zip(others, latin) for row in pair] + others[len(latin):] + latin[len(others):]
    for name, language, local in mixed:
        phone = ""
        while not phone or phone in phones:
            phone = f"+971{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"
        phones.add(phone)
        home = rng.choices(list(HOME_BRANCH_WEIGHTS), weights=list(HOME_BRANCH_WEIGHTS.values()))[0]
        plans.append(CustomerPlan(phone, name, language, local, home))
    return plans


def plan_fleet(rng: random.Random, customers: Sequence[CustomerPlan], today: date) -> list[VehiclePlan]:
    """Pinned cars first, then one car for every other customer and a second or third for some; by owner."""
    rows: list[tuple[int, ModelSpec, int | None, int | None, str | None]] = [
        (owner, MODEL_BY_NAME[make, model], year, days, tier) for owner, make, model, year, days, tier in PINNED_FLEET
    ]
    pinned_owners = {row[0] for row in rows}
    owners = [c for c in range(len(customers)) if c not in pinned_owners]
    seconds = rng.sample(owners, EXTRA_VEHICLES - 2)
    owners += seconds + rng.sample(seconds, 2)
    for n, owner in enumerate(owners):
        spec = rng.choices(MODELS, weights=[m.weight for m in MODELS])[0]
        if n % 8 == 4:
            tier: str | None = rng.choice(("extended", "comprehensive"))
            rows.append((owner, spec, None, None, tier))
        else:
            age_days = rng.randint(30, 4 * 365 - 10)
            tier = None if rng.random() < 0.12 else rng.choices(("basic", "extended", "comprehensive"), (4, 4, 2))[0]
            rows.append((owner, spec, None, age_days, tier))
    tier_months = {t["code"]: t["duration_months"] for t in WARRANTY_TIERS}

    plans = []
    for owner, spec, year, days, tier in rows:
        if days is None:  # its warranty ends 30-60 days from today: bought that many months before
            purchase = add_months(today + timedelta(days=rng.randint(32, 58)), -tier_months[tier or "basic"])
        else:
            purchase = today - timedelta(days=days)
        if year is None:
            newest = min(spec.last_year, purchase.year)
            year = rng.randint(max(spec.first_year, min(newest, purchase.year - 7)), newest)
        home = customers[owner].home
        sold_elsewhere = owner >= len(DEMO_CUSTOMERS) and rng.random() >= 0.85
        branch = rng.choice([b for b in BAYS if b != home]) if sold_elsewhere else home
        years_used = max((purchase - date(year, 3, 1)).days / 365, 0.3)
        km_at_purchase = int(years_used * rng.randint(15_000, 26_000)) + rng.randint(500, 3_000)
        km_per_year = rng.randint(12_000, 18_000 if days is None else 30_000)  # keep soon-expiring cover in km
        plans.append(VehiclePlan(owner, spec, year, purchase, branch, home, tier, km_at_purchase, km_per_year))
    return sorted(plans, key=lambda plan: plan.owner)


# --- writing ---------------------------------------------------------------------------------------------

RowT = TypeVar("RowT", bound=Base)


class _Writer:
    """Adds rows to the session and counts them per table."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.counts: Counter[str] = Counter()

    def add(self, rows: Iterable[RowT]) -> list[RowT]:
        added = list(rows)
        self.session.add_all(added)
        for row in added:
            self.counts[type(row).__tablename__] += 1
        return added


def seed_demo(session: Session, now: datetime) -> dict[str, int]:
    """Fill an empty database with the demo dealership; returns how many rows went into each table."""
    if now.tzinfo is None:
        raise ValueError("seed_demo needs a time-zone aware now")
    if any(session.scalar(select(model.id).limit(1)) is not None for model in (Customer, Branch)):
        raise DemoAlreadySeeded("the database already holds customers or branches")
    rng = random.Random(SEED)
    today = now.astimezone(DUBAI).date()
    writer = _Writer(session, now)

    branches = _seed_branches(writer)
    _seed_catalogue(writer)
    tiers = {tier.code: tier for tier in writer.add(WarrantyTier(**data) for data in WARRANTY_TIERS)}
    packages = {package.code: package for package in writer.add(
        ServicePackage(code=code, name_en=en, name_ar=ar, price_aed=Decimal(price), duration_months=months,
                       discount_percent=discount, priority_booking=True)
        for code, en, ar, price, months, discount in SERVICE_PACKAGES
    )}
    session.flush()
    branch_ids = {branch.code: branch.id for branch in branches}

    customer_plans = plan_customers(rng)
    customers = _seed_customers(writer, rng, customer_plans)
    fleet = plan_fleet(rng, customer_plans, today)
    vins: set[str] = set()
    plates: set[str] = set()
    vehicles = writer.add(
        Vehicle(vin=make_vin(rng, plan.spec, plan.year, vins), plate=make_plate(rng, plan.home, plates),
                make=plan.spec.make, model=plan.spec.model, year=plan.year, purchase_date=plan.purchase,
                owner=customers[plan.owner], sold_by_branch_id=branch_ids[plan.branch],
                created_at=now, updated_at=now)
        for plan in fleet
    )
    session.flush()

    for plan, vehicle in zip(fleet, vehicles):
        pinned = PINNED_COLOURS.get((plan.owner, plan.spec.model))
        vehicle.colour = pinned or COLOURS[zlib.crc32(vehicle.vin.encode()) % len(COLOURS)]
    for serial, (plan, vehicle) in enumerate(zip(fleet, vehicles), start=101):
        _seed_history(writer, rng, plan, vehicle, branch_ids, today)
        if plan.tier is not None:
            _seed_warranty(writer, plan, vehicle, tiers[plan.tier], serial)
    _seed_subscriptions(writer, rng, fleet, vehicles, packages)
    _seed_recalls(writer, rng, fleet, vehicles, today)
    writer.add(
        StockVehicle(vin=make_vin(rng, MODEL_BY_NAME[make, model], year, vins), make=make, model=model, year=year,
                     mileage_km=km, price_aed=Decimal(price), branch_id=branch_ids[branch],
                     arrived_on=today - timedelta(days=rng.randint(2, 45)), status="available")
        for make, model, year, km, price, branch in STOCK
    )
    writer.add(
        UpgradeWish(customer_id=customers[owner].id, make=make, model=model, min_year=min_year,
                    max_budget_aed=None if budget is None else Decimal(budget), created_at=now)
        for owner, make, model, min_year, budget in UPGRADE_WISHES
    )
    session.flush()
    return dict(sorted(writer.counts.items()))


def _seed_branches(writer: _Writer) -> list[Branch]:
    branches = writer.add(Branch(**data) for data in BRANCHES)
    for branch in branches:
        periods = [(weekday, span.split("-")) for weekday, spans in enumerate(BRANCH_HOURS[branch.code])
                   for span in spans.split()]
        writer.add(BranchHours(branch=branch, weekday=weekday, opens=time.fromisoformat(opens),
                               closes=time.fromisoformat(closes)) for weekday, (opens, closes) in periods)
        count, with_lift = BAYS[branch.code]
        writer.add(Bay(branch=branch, name=f"B{n}", has_lift=n <= with_lift) for n in range(1, count + 1))
    return branches


def _seed_catalogue(writer: _Writer) -> None:
    writer.add(
        ServiceType(code=code, name_en=en, name_ar=ar, duration_minutes=minutes, price_aed=Decimal(price),
                    needs_lift=lift, mobile_eligible=mobile, express_eligible=express)
        for code, en, ar, minutes, price, lift, mobile, express in SERVICE_TYPES
    )
    writer.add(MaintenancePlan(make=make, model=model, interval_km=km, interval_months=months)
               for make, model, km, months in MAINTENANCE_PLANS)
    writer.add(ModelFigures(make=make, model=model, year_from=first, year_to=last, tyre_front_psi=front,
                            tyre_rear_psi=rear, oil_grade=oil, oil_capacity_l=None if litres is None else Decimal(litres),
                            fuel_ron=ron, source=MODEL_FIGURES_SOURCE, updated_on=MODEL_FIGURES_UPDATED)
               for make, model, first, last, front, rear, oil, litres, ron in MODEL_FIGURES)


def _seed_customers(writer: _Writer, rng: random.Random, plans: Sequence[CustomerPlan]) -> list[Customer]:
    customers = []
    for n, plan in enumerate(plans):
        demo = n < len(DEMO_CUSTOMERS)  # the demo customers get e-mail and every consent but marketing
        email = f"{plan.email_local}@{EMAIL_DOMAINS[0] if demo else rng.choice(EMAIL_DOMAINS)}"
        customers.append(Customer(
            phone=plan.phone, name=plan.name, preferred_language=plan.language,
            email=email if demo or rng.random() < 0.85 else None,
            consent_service_reminders=demo or rng.random() > 0.05,
            consent_appointment_reminders=True,
            consent_recall_notices=True,
            consent_feedback_surveys=demo or rng.random() > 0.12,
            consent_marketing=n == 0 or (not demo and rng.random() < 0.45),
            created_at=writer.now, updated_at=writer.now,
        ))
    return writer.add(customers)


def _plan_service_visits(rng: random.Random, plan: VehiclePlan, today: date) -> list[tuple[date, str, list[str],
                                                                                             tuple[int, int]]]:
    """Visits every 6 months or 10,000 km, whichever first; some owners went elsewhere or are overdue."""
    interval = min(182, 365 * 10_000 // plan.km_per_year)
    visits = []
    day = plan.purchase + timedelta(days=interval + rng.randint(-15, 20))
    while day < today:
        visits.append(day)
        day += timedelta(days=interval + rng.randint(-15, 25))
    if rng.random() < 0.15:
        return []
    if visits and rng.random() < 0.25:
        visits.pop()
    records = []
    for n, day in enumerate(visits, start=1):
        records.append((day, *(MAJOR_SERVICE if n % 4 == 0 else MINOR_SERVICE)))
        if rng.random() < 0.3:
            records.append((day, *rng.choice(EXTRA_WORK)))
    return records[-6:]


def _seed_history(writer: _Writer, rng: random.Random, plan: VehiclePlan, vehicle: Vehicle,
                  branch_ids: dict[str, int], today: date) -> None:
    """Pre-delivery inspection, handover documents, service records and odometer readings of one car."""
    inspected_on = plan.purchase - timedelta(days=rng.randint(1, 4))
    _seed_inspection(writer, rng, plan, vehicle, branch_ids[plan.branch], inspected_on)
    writer.add(
        VehicleDocument(vehicle_id=vehicle.id, kind=kind, title_en=title_en, title_ar=title_ar,
                        url=f"https://docs.example.ae/vehicles/{vehicle.vin}/{file_name}",
                        issued_on=inspected_on if kind == "history_report" else plan.purchase)
        for kind, file_name, title_en, title_ar in DOCUMENTS
    )
    visits = _plan_service_visits(rng, plan, today)
    writer.add(
        ServiceRecord(vehicle=vehicle, service_date=day, mileage_km=plan.km_on(day), work=work, parts=list(parts),
                      cost_aed=Decimal(rng.randrange(low, high + 1, 5)).quantize(Decimal("0.01")),
                      branch_id=branch_ids[plan.home if rng.random() < 0.8 else rng.choice(list(branch_ids))],
                      source="seed", created_at=writer.now)
        for day, work, parts, (low, high) in visits
    )
    reading_days = [plan.purchase] + sorted({day for day, *_ in visits})[-3:]
    if len(reading_days) == 1 and rng.random() < 0.5:  # a recent reading the customer gave
        reading_days.append(max(today - timedelta(days=rng.randint(3, 25)), plan.purchase + timedelta(days=1)))
    writer.add(
        MileageReading(vehicle=vehicle, reading_km=plan.km_on(day), source="seed",
                       recorded_at=datetime.combine(day, time(10, 0), DUBAI))
        for day in reading_days
    )


def _seed_inspection(writer: _Writer, rng: random.Random, plan: VehiclePlan, vehicle: Vehicle,
                     branch_id: int, inspected_on: date) -> None:
    checks = sorted(rng.sample(range(len(INSPECTION_CHECKS)), rng.randint(8, 14)))
    items = []
    for index in checks:
        area, (item_en, item_ar), fixed, watch = INSPECTION_CHECKS[index]
        roll = rng.random()
        result, (finding_en, finding_ar) = (
            ("fixed", fixed) if roll < 0.12 else ("watch", watch) if roll < 0.24 else ("ok", (None, None))
        )
        items.append(InspectionItem(area=area, item_en=item_en, item_ar=item_ar, result=result,
                                    finding_en=finding_en, finding_ar=finding_ar))
    if not any(item.result == "watch" for item in items):  # a used car always has something to keep an eye on
        item = rng.choice([item for item in items if item.result == "ok"] or items)
        _, _, _, (item.finding_en, item.finding_ar) = INSPECTION_CHECKS[checks[items.index(item)]]
        item.result = "watch"
    fixed_count = sum(item.result == "fixed" for item in items)
    watch_count = sum(item.result == "watch" for item in items)
    report = InspectionReport(
        vehicle_id=vehicle.id, branch_id=branch_id, inspected_on=inspected_on, inspector=rng.choice(INSPECTORS),
        mileage_km=max(plan.km_at_purchase - rng.randint(2, 25), 0),
        summary_en=f"Passed our certified pre-delivery inspection: {len(items)} areas checked, "
        f"{fixed_count} fixed before handover, {watch_count} to keep an eye on.",
        summary_ar=f"اجتازت السيارة فحص ما قبل التسليم المعتمد. البنود المفحوصة: {len(items)}، "
        f"البنود التي أُصلحت قبل التسليم: {fixed_count}، البنود التي تحتاج إلى متابعة: {watch_count}.",
        items=items,
    )
    writer.add([report])
    writer.add(items)


def _seed_warranty(writer: _Writer, plan: VehiclePlan, vehicle: Vehicle, tier: WarrantyTier, serial: int) -> None:
    writer.add([Warranty(
        contract_number=f"WR-{plan.purchase.year}-{serial:06d}", vehicle=vehicle, tier=tier,
        start_date=plan.purchase, end_date=add_months(plan.purchase, tier.duration_months),
        mileage_limit_km=plan.km_at_purchase + tier.mileage_limit_km,  # an odometer reading, not a distance
        covered_components=list(tier.covered_components), excluded_components=list(tier.excluded_components),
        created_at=writer.now,
    )])


def _seed_subscriptions(writer: _Writer, rng: random.Random, fleet: Sequence[VehiclePlan],
                        vehicles: Sequence[Vehicle], packages: dict[str, ServicePackage]) -> None:
    """Service packages for 15 cars, the demo customer's Land Cruiser among them; older ones have run out."""
    for n in [0] + rng.sample(range(1, len(fleet)), 14):
        package = packages["care_2y"] if n == 0 else rng.choice(list(packages.values()))
        start = fleet[n].purchase + timedelta(days=rng.randint(0, 14))
        writer.add([PackageSubscription(vehicle_id=vehicles[n].id, package=package, start_date=start,
                                        end_date=add_months(start, package.duration_months))])


def _recall_matches(recall: Recall, vehicle: Vehicle) -> bool:
    return (recall.make == vehicle.make and recall.model in (None, vehicle.model)
            and recall.year_from <= vehicle.year <= recall.year_to)


def _seed_recalls(writer: _Writer, rng: random.Random, fleet: Sequence[VehiclePlan],
                  vehicles: Sequence[Vehicle], today: date) -> None:
    recalls = writer.add(
        Recall(**{key: value for key, value in data.items() if key != "published_days_ago"}, vins=None, active=True,
               published_on=today - timedelta(days=data["published_days_ago"]))
        for data in RECALLS
    )
    writer.session.flush()
    by_code = {recall.campaign_code: recall for recall in recalls}
    for code, owner in COMPLETED_RECALLS:
        recall = by_code[code]
        vehicle = next(v for p, v in zip(fleet, vehicles) if p.owner == owner and _recall_matches(recall, v))
        done = min(recall.published_on + timedelta(days=rng.randint(5, 40)), today - timedelta(days=1))
        writer.add([RecallCompletion(recall_id=recall.id, vehicle_id=vehicle.id, completed_on=done)])
