#!/usr/bin/env python3
"""Generates mappings/zenda/email.toml for the Zenda trial (per-month and per-zone template copies).

Usage: python3 tools/zenda_email_gen.py > mappings/zenda/email.toml
"""
import sys

def q(s):
    """A TOML string for a regex or text: literal '...' when possible."""
    if "'" not in s and "\n" not in s:
        return "'" + s + "'"
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

UUID = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
FROM = r'(?i)^noreply@zenda\.fit$'
BRANDS = r'Visa|Mastercard|MasterCard|Maestro|American Express|Amex'

L = {}
L['en'] = dict(
    name='English (UK and Greek studios)',
    subj=dict(spot_confirmed=r"You(?:'|’)re booked:", spot_changed=r'Your booking has moved:', spot_cancelled=r'Cancelled:',
              class_cancelled=r'Class cancelled:', waitlist_promoted=r'A spot opened up:'),
    reminder=r'^Reminder: (?P<service>.+) today at (?P<time>\d{1,2}:\d{2})\s*$',
    receipt=r'^Receipt (?P<doc>\d{4}/\d+)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    refund=r'^Refund (?P<subject_amount>.+?)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    greeting=r'(?m)^\s*Hi (?P<first>[^,\n]+),',
    labels=dict(when='When', where='Where', paid_with='Paid with', guests='Guests', was='Was', now='Now', item='Item',
                amount='Amount', paid='Paid', method='Method', doc='Document no.', ref='Reference'),
    cash_words={'Cash': 'cash', 'Bank transfer': 'bank_transfer'},
)
L['pl'] = dict(
    name='Polish', zone='Europe/Warsaw',
    subj=dict(spot_confirmed=r'Rezerwacja potwierdzona:', spot_changed=r'Zmiana rezerwacji:', spot_cancelled=r'Anulowano:',
              class_cancelled=r'Zajęcia odwołane:', waitlist_promoted=r'Zwolniło się miejsce:'),
    reminder=r'^Przypomnienie: (?P<service>.+) dziś o (?P<time>\d{1,2}:\d{2})\s*$',
    receipt=r'^Potwierdzenie płatności (?P<doc>\d{4}/\d+)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    refund=r'^Zwrot (?P<subject_amount>.+?)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    greeting=r'(?m)^\s*Cześć (?P<first>[^!,\n]+)!',
    labels=dict(when='Kiedy', where='Gdzie', paid_with='Płatność', guests='Goście', was='Było', now='Jest', item='Pozycja',
                amount='Kwota', paid='Zapłacono', method='Metoda', doc='Nr dokumentu', ref='Referencja'),
    months=['stycznia', 'lutego', 'marca', 'kwietnia', 'maja', 'czerwca', 'lipca', 'sierpnia', 'września',
            'października', 'listopada', 'grudnia'],
    # "poniedziałek, 14 kwietnia 2025, godz. 18:30"
    date=r'(?P<wd>[^\s,]+), (?P<day>\d{{1,2}}) {mon} (?P<year>\d{{4}}), godz\. (?P<time>\d{{1,2}}:\d{{2}})',
    money=r'(\d[\d\s]*,\d{2}\s?zł)', zero='0,00 zł',
    cash_words={'Gotówka': 'cash', 'gotówka': 'cash', 'Przelew': 'bank_transfer', 'Przelew bankowy': 'bank_transfer'},
)
L['de'] = dict(
    name='German (Germany and Austria)', zone='Europe/Berlin',
    subj=dict(spot_confirmed=r'Buchung bestätigt:', spot_changed=r'Buchung geändert:', spot_cancelled=r'Storniert:',
              class_cancelled=r'Kurs abgesagt:', waitlist_promoted=r'Platz frei geworden:'),
    reminder=r'^Erinnerung: (?P<service>.+) heute um (?P<time>\d{1,2}:\d{2}) Uhr\s*$',
    receipt=r'^Zahlungsbeleg (?P<doc>\d{4}/\d+)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    refund=r'^Erstattung (?P<subject_amount>.+?)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    greeting=r'(?m)^\s*Hallo (?P<first>[^,\n]+),',
    labels=dict(when='Wann', where='Wo', paid_with='Bezahlt mit', guests='Gäste', was='Vorher', now='Jetzt', item='Artikel',
                amount='Betrag', paid='Bezahlt am', method='Zahlungsart', doc='Beleg-Nr.', ref='Referenz'),
    months=['(?:Januar|Jänner)', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober',
            'November', 'Dezember'],
    # "Montag, 14. April 2025, 18:30 Uhr"
    date=r'(?P<wd>[^\s,]+), (?P<day>\d{{1,2}})\. {mon} (?P<year>\d{{4}}), (?P<time>\d{{1,2}}:\d{{2}}) Uhr',
    money=r'(\d[\d.]*,\d{2}\s?€)', zero='0,00 €',
    cash_words={'Bar': 'cash', 'Barzahlung': 'cash', 'Bargeld': 'cash', 'Überweisung': 'bank_transfer',
                'Banküberweisung': 'bank_transfer', 'SEPA-Überweisung': 'bank_transfer', 'Dauerauftrag': 'bank_transfer'},
)
L['cs'] = dict(
    name='Czech', zone='Europe/Prague',
    subj=dict(spot_confirmed=r'Rezervace potvrzena:', spot_changed=r'Změna rezervace:', spot_cancelled=r'Zrušeno:',
              class_cancelled=r'Lekce zrušena:', waitlist_promoted=r'Uvolnilo se místo:'),
    reminder=r'^Připomínka: (?P<service>.+) dnes v (?P<time>\d{1,2}:\d{2})\s*$',
    receipt=r'^Potvrzení platby (?P<doc>\d{4}/\d+)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    refund=r'^Vrácení platby (?P<subject_amount>.+?)\s*[–-]\s*(?P<studio_name>.+?)\s*$',
    greeting=r'(?m)^\s*Ahoj (?P<first>[^,\n]+),',
    labels=dict(when='Kdy', where='Kde', paid_with='Platba', guests='Hosté', was='Původně', now='Nově', item='Položka',
                amount='Částka', paid='Zaplaceno', method='Způsob platby', doc='Číslo dokladu', ref='Reference'),
    months=['ledna', 'února', 'března', 'dubna', 'května', 'června', 'července', 'srpna', 'září', 'října',
            'listopadu', 'prosince'],
    # "pondělí 14. dubna 2025 v 18:30" (no leading zero: "v 9:00")
    date=r'(?P<wd>[^\s,]+) (?P<day>\d{{1,2}})\. {mon} (?P<year>\d{{4}}) v (?P<time>\d{{1,2}}:\d{{2}})',
    money=r'(\d[\d\s]*(?:,\d{2})?\s?Kč)', zero='0 Kč',
    cash_words={'Hotově': 'cash', 'Hotovost': 'cash', 'hotově': 'cash', 'Bankovní převod': 'bank_transfer',
                'Převod': 'bank_transfer', 'Převodem': 'bank_transfer'},
)
EN_MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December'
EN_DATE = r'(?P<wd>[A-Z][a-z]+) (?P<day>\d{1,2}) (?P<mon>' + EN_MONTHS + r') (?P<year>\d{4}) at (?P<time>\d{1,2}:\d{2})'
# English studios are in the UK (GBP, Europe/London) or Greece (EUR, Europe/Athens): the mail does not
# say which. Variants, first match wins: a "£" in the body -> London; a "€" -> Athens; a Greek letter
# (greeting / names in Greek script) -> Athens; anything else -> London.
GREEK_MARKERS = ['ς', 'α', 'ο', 'η', 'ι', 'ε']
EN_ZONES = ([('gbp', '£', 'Europe/London', '£0.00', r'(£\s?\d[\d,]*\.\d{2})')] +
            [('eur', '€', 'Europe/Athens', '€0.00', r'(€\s?\d[\d,]*\.\d{2})')] +
            [('greek-' + m, m, 'Europe/Athens', '€0.00', r'(€\s?\d[\d,]*\.\d{2})') for m in GREEK_MARKERS] +
            [('other', None, 'Europe/London', '£0.00', r'(£\s?\d[\d,]*\.\d{2})')])

EVENTS = dict(
    spot_confirmed=('reservation_created', 'confirmed'),
    waitlist_promoted=('reservation_changed', 'confirmed'),
    spot_changed=('reservation_changed', None),
    spot_cancelled=('reservation_cancelled', 'cancelled'),
    class_cancelled=('reservation_cancelled', 'cancelled'),
)
ORDER = ['spot_confirmed', 'waitlist_promoted', 'spot_changed', 'spot_cancelled', 'class_cancelled']

out = []
w = out.append

def common_body(lang):
    lb = L[lang]['labels']
    return [
        # the spot's uuid in "Manage your booking: https://<slug>.zenda.fit/b/<uuid>"
        r'/b/(?P<spot>' + UUID + r')\b',
        # the tenant slug in the links and the footer ("https://studio-mantra-krakow.zenda.fit")
        r'https?://(?P<slug>[a-z0-9][a-z0-9-]*)\.zenda\.fit\b',
        L[lang]['greeting'],
    ]

def business_fields():
    return [
        ('business_id', '"{header.X-Zenda-Studio}"'),
        ('"business.email"', '{ text = "{reply_to}", type = "email" }'),
        ('"business.name"', '"{from_name}"'),
        ('"attr.studio_slug"', '"{slug}"'),
        ('"attr.template"', '"{header.X-Zenda-Template}"'),
    ]

def emit(t):
    w('')
    w('[[templates]]')
    for k in ('name', 'version', 'event', 'status', 'default_currency'):
        if t.get(k):
            w(f'{k} = "{t[k]}"')
    w(f'from = {q(FROM)}')
    if t.get('subject'):
        w(f'subject = {q(t["subject"])}')
    if t.get('body_marker'):
        w(f'body_marker = {q(t["body_marker"])}')
    if t.get('body'):
        w('body = [')
        for b in t['body']:
            w(f'    {q(b)},')
        w(']')
    w('required = [' + ', '.join(f'"{r}"' for r in t['required']) + ']')
    if t.get('labels'):
        w('[templates.labels]')
        for k, v in t['labels']:
            w(f'{q(k)} = "{v}"')
    w('[templates.fields]')
    for k, v in t['fields']:
        w(f'{k} = {v}')

def guests_body(lang):
    lb = L[lang]['labels']['guests']
    greet = {'en': r'Hi\b', 'pl': 'Cześć', 'de': 'Hallo', 'cs': 'Ahoj'}[lang]
    # "Guests: 1" appears only when guests > 0. When it is missing the group falls back to the greeting
    # word, which the map below turns into a party of 1.
    return r'(?s)\A(?:.*?\n\s*' + lb + r':\s*|.*?)(?P<guests>' + greet + r'|\b\d{1,2}\b)'

def guests_field(lang):
    greet = {'en': 'Hi', 'pl': 'Cześć', 'de': 'Hallo', 'cs': 'Ahoj'}[lang]
    m = ', '.join([f'"{greet}" = "1"'] + [f'"{i}" = "{i+1}"' for i in range(0, 20)])
    return '{ text = "{guests}", type = "int", map = { ' + m + ' } }'

def reservation_template(lang, kind, version, subject, starts_text, starts_fmt, zone, marker, money_re, zero):
    event, status = EVENTS[kind]
    lb = L[lang]['labels']
    body = common_body(lang) + [
        guests_body(lang),
        r'(?m)^\s*' + re_escape(lb['paid_with']) + r':\s*(?P<paid_with>.+?)\s*$',
    ]
    if kind == 'class_cancelled' and lang == 'en':
        body.append(r'(?m)has cancelled this class:\s*(?P<cancel_reason>[^\n]+?)\.?\s*$')
    if kind == 'spot_cancelled' and lang == 'en':
        body.append(r'(?P<cancel_note>You cancelled in time\.|Late cancellation)')
    fields = [
        ('id', '"{spot}"'),
        ('service', '"{service}"'),
        ('starts_at', '{ text = "' + starts_text + '", type = "datetime", formats = ["' + starts_fmt + '"], zone = "' + zone + '" }'),
    ]
    if kind in ('spot_confirmed', 'waitlist_promoted'):
        fields.append(('party_size', guests_field(lang)))
        # price of the spot: the money in "Paid with: card, 45,00 zł" / "pay at the studio: 45,00 zł";
        # a pass / membership / benefit-card spot shows none and costs 0.00 (the appended zero).
        fields.append(('amount', '{ text = "{paid_with} ' + zero + '", pattern = ' + q(money_re) + ', type = "money" }'))
        fields.append(('"attr.paid_with"', '"{paid_with}"'))
    fields.append(('"attr.greeting_name"', '"{first}"'))
    fields += business_fields()
    if kind == 'class_cancelled' and lang == 'en':
        fields.append(('"attr.cancel_reason"', '"{cancel_reason}"'))
    if kind == 'spot_cancelled' and lang == 'en':
        fields.append(('"attr.app_state"', '{ text = "{cancel_note}", map = { "You cancelled in time." = "cancelled", "Late cancellation" = "late_cancel" } }'))
    if kind == 'class_cancelled':
        fields.append(('"attr.app_state"', '"class_cancelled"'))
    if kind == 'spot_confirmed':
        fields.append(('created_at', '{ text = "{message_date}", type = "datetime", formats = ["%+"] }'))
    fields.append(('updated_at', '{ text = "{message_date}", type = "datetime", formats = ["%+"] }'))
    return dict(name=kind, version=version, event=event, status=status, subject=subject, body_marker=marker,
                body=body, required=['id'], fields=fields)

def re_escape(s):
    return s.replace('.', r'\.')

def reminder_template(lang, version, zone, marker):
    body = common_body(lang)
    fields = [
        ('id', '"{spot}"'),
        ('service', '"{service}"'),
        # "today at 18:30": the date is the day the reminder was sent (3 h before class)
        ('starts_at', '{ text = "{time} {message_date}", pattern = \'^(\\d{1,2}:\\d{2} \\d{4}-\\d{2}-\\d{2})\', type = "datetime", formats = ["%H:%M %Y-%m-%d"], zone = "' + zone + '" }'),
        ('"attr.greeting_name"', '"{first}"'),
    ] + business_fields()
    return dict(name='reminder', version=version, event='reservation_reminder', status='confirmed',
                subject=L[lang]['reminder'], body_marker=marker, body=body, required=['id'], fields=fields)

TRANSFER_WORDS = {
    # only "Bank transfer" is in the brief; the others are guesses at the app's translations
    'en': ['Bank transfer'],
    'pl': ['Przelew bankowy', 'Przelew', 'przelew'],
    'de': ['Banküberweisung', 'SEPA-Überweisung', 'Überweisung', 'SEPA', 'Dauerauftrag', 'Lastschrift'],
    'cs': ['Bankovní převod', 'Převod', 'převod'],
}

CARD_MARKERS = ['Visa', 'Mastercard', 'MasterCard', 'Maestro', 'American Express', 'Amex', 'Discover', 'JCB', 'UnionPay', 'Diners']

def card_sink(kind, lang, brand):
    # A card payment (online, terminal, fee, membership) is in Stripe, which is intact: its receipt or
    # refund mail adds nothing, and a mail payment without a Stripe id would become a second row
    # wherever the loose join (business, amount, day) is not unique -- memberships above all, whose
    # backup row (in_) and Stripe row (pi_) are already two. Recognised and dropped (see the top).
    return dict(name=f'{kind}_card_not_imported', version=f'{lang}-{brand.strip().lower().replace(" ", "_")}',
                event='payment_received' if kind == 'receipt' else 'payment_refunded',
                subject=L[lang][kind], body_marker=brand, body=[r'(?P<never>\x00never\x00)'],
                required=['attr.card_payment_is_in_stripe'], fields=[('"attr.card_payment_is_in_stripe"', '"{never}"')])

def receipt_template(lang):
    lb = L[lang]['labels']
    label = re_escape(lb['method'])
    words = TRANSFER_WORDS[lang]
    body = [
        r'https?://(?P<slug>[a-z0-9][a-z0-9-]*)\.zenda\.fit\b',
        L[lang]['greeting'],
        r'(?m)^\s*' + label + r':\s*(?P<method>.+?)\s*$',
        # "Method: Bank transfer" -> the transfer word; any other value (Cash, ...) -> the label itself
        # (card receipts were caught above): the map then says bank_transfer or cash.
        r'(?m)^\s*(?:' + label + r':\s*)?(?P<method_kind>' + '|'.join(words + [label]) + r')',
        r'(?m)^\s*' + re_escape(lb['ref']) + r':\s*(?P<ref>[0-9A-Fa-f]{8})\b',
    ]
    labels = [(lb['item'], 'item'), (lb['amount'], 'amount'), (lb['paid'], 'paid'), (lb['doc'], 'doc_no')]
    mm = ', '.join([f'{q(w)} = "bank_transfer"' for w in words] + [f'{q(lb["method"])} = "cash"'])
    fields = [
        ('amount', '{ text = "{amount}", type = "money" }'),
        ('processor', '{ text = "{method_kind}", map = { ' + mm + ' } }'),
        ('"attr.doc_no"', '"{doc}"'),
        ('"attr.reference"', '"{ref}"'),
        ('"attr.item"', '"{item}"'),
        ('"attr.method"', '"{method}"'),
        ('"attr.paid_local"', '"{paid}"'),
        ('"customer.email"', '{ text = "{to_address}", type = "email" }'),
        ('"attr.greeting_name"', '"{first}"'),
    ] + business_fields() + [
        # sent when staff entered the payment (cash / bank transfer)
        ('created_at', '{ text = "{message_date}", type = "datetime", formats = ["%+"] }'),
    ]
    return dict(name='receipt_cash_or_transfer', version=lang, event='payment_received', status='succeeded',
                subject=L[lang]['receipt'], body=body, labels=labels, required=['amount'], fields=fields)

def refund_sink(lang):
    # A refund mail names its purchase only by doc_no and the 8-hex Reference, which no other source
    # can be matched on (see the top), and carries no amount paid: it could only become an orphan in
    # review. Card refunds are in Stripe, card and cash refunds in purchases.refunded_minor up to the
    # backup. Recognised and dropped.
    return dict(name='refund_not_imported', version=lang, event='payment_refunded', subject=L[lang]['refund'],
                body=[r'(?P<never>\x00never\x00)'], required=['attr.refund_has_no_key'],
                fields=[('"attr.refund_has_no_key"', '"{never}"')])

def sink(slug_prefix):
    return dict(name='internal_tenant', version=slug_prefix.strip(':/.-'), event='reservation_changed',
                body_marker=slug_prefix, body=[r'(?P<never>\x00never\x00)'], required=['id'],
                fields=[('id', '"{never}"')])

HEADER = r'''# Email mapping for Zenda (timetabled classes: yoga, pilates, dance, kids' studios), written from
# docs/trials/brief-3.md alone. The keys are documented in mappings/bookly/email.toml.
#
# GENERATED by /work/trial3/tools/zenda_email_gen.py: a template exists once per month (pl/de/cs)
# or per zone (en), see "Why so many templates". Change the generator, not the copies.
#
# The archive: the Maildir of the BCC mailbox archive@zenda.fit (mbsync from Gmail: every message
# in "[Gmail].All Mail", ~40 % also in INBOX/Receipts under the same Message-ID, which the importer
# folds as duplicate_email). multipart/alternative, UTF-8, quoted-printable; Postmark-era (before
# 2024-09-10) receipt and refund mails are HTML-only (read as text, table rows as "Label: value").
#
# Every app mail:
#   From: "<studios.name at send time>" <noreply@zenda.fit>  (RFC 2047 is decoded by the importer)
#   Reply-To: <studios.contact_email>                        -> business.email (the Postmark era's only
#                                                               business key; the From name is not one:
#                                                               renames, "Pilates Loft" x2, "Yoga Space" x2)
#   To: people.email (walk-ins: studio_members.email; kids: the parent's) -> the customer's email
#   Date: ... +0000, i.e. UTC and NOT the studio's zone: every local time below names its zone
#   X-Zenda-Studio: <studios.id>, X-Zenda-Template: <name>   (SES era only, since 2024-09-10)
#   footer "Studio Mantra · powered by Zenda · https://studio-mantra-krakow.zenda.fit"
# Language = the studio's locale (en, pl, de, cs); the greeting is the spot holder's FIRST name
# (kids: the child's, while To is the parent's). It is kept as attr.greeting_name only: as
# customer.name a bare first name made the linkage refuse the walk-in row with the same address
# ("Marek" vs "Marek Kowalski"), see zenda-gaps.md.
#
# Ids in mail: the spot uuid only in links ".../b/<uuid>" (-> the reservation's id); the purchase
# only as "Reference: 7F3A9C21" (first 8 hex of its uuid, upper case) and its per-studio, per-year
# doc_no ("2025/00421"): neither can be matched with the backup or Stripe, so they are attrs.
#
# Why so many templates:
#  * pl/de/cs dates use month NAMES ("14 kwietnia 2025", "Montag, 14. April 2025", "14. dubna
#    2025"); chrono reads English month names only and `map` translates whole values only, so each
#    pl/de/cs reservation template exists once per month: its subject regex names the month and its
#    starts_at text writes the month's number ("{day}.04.{year} {time}").
#  * The Date header is UTC; class times are the studio's wall clock, so each template names its
#    zone: pl Europe/Warsaw, cs Europe/Prague, de Europe/Berlin (Europe/Vienna has the same rules).
#    English mails come from UK studios (Europe/London, GBP) or Greek ones (Europe/Athens, EUR) and
#    do not say which: each English reservation template exists in variants tried in order: the body
#    holds "£" -> London; "€" -> Athens; a Greek letter (names in Greek script) -> Athens; else London.
#
# What is deliberately NOT imported (recognised by a template whose required field can never be
# found, so the message is counted as incomplete_email with this reason instead of as unmatched):
#  * mail of internal tenants (plan = internal; slugs demo-*, sales-*, qa-*, studio-mantra-test):
#    they send real mail and must never come back;
#  * receipts of CARD payments (a card brand in the body): every card payment is in Stripe, which is
#    intact. A receipt has no Stripe id, so it can only join "the one" payment of its business, amount
#    and day; where that is not unique (a membership month is already two rows, the backup's in_ and
#    Stripe's pi_) it became a third row in tests. Cash / bank-transfer receipts ARE imported: after
#    the backup they are the only trace of that money;
#  * refund mails: they name the purchase by doc_no / Reference only (no key) and carry no Stripe id
#    and no amount paid; unjoined they are orphans. Card refunds are in Stripe.
#
# Money: "45,00 zł", "250 Kč", "249,50 Kč", "18,00 €", "£12.00", "€15.00", with U+00A0 before the
# symbol and as the pl/cs thousands separator ("1 200,00 zł"), "1.200,00 €", "£1,200.00": read by
# type = "money" with the symbols below.

# Stripe's own receipts: off since 2023-05-08, and the Era L ones went to buyers, not to the BCC
# archive. Left on: harmless if there are none.
stripe_receipts = true

[currency_symbols]
"zł" = "pln"
"Kč" = "czk"
"€" = "eur"
"£" = "gbp"
'''
w(HEADER.rstrip('\n'))

w('')
w('# ' + '=' * 86)
w('# Internal tenants (plan = internal: demo-*, sales-*, qa-*, studio-mantra-test). They send real mail')
w('# that must never come back. There is no "drop" event: these templates catch such mail by the')
w('# tenant slug in the links and require a field that never exists, so the message is skipped as')
w('# incomplete_email (reported, not imported). They come first: first match wins.')
w('# ' + '=' * 86)
for p in ['://demo-', '://sales-', '://qa-', '://studio-mantra-test.zenda.fit']:
    emit(sink(p))

for lang in ['en', 'pl', 'de', 'cs']:
    w('')
    w('# ' + '=' * 86)
    w(f'# {L[lang]["name"]} ({lang})')
    w('# ' + '=' * 86)
    for kind in ORDER:
        prefix = L[lang]['subj'][kind]
        if lang == 'en':
            for (tag, marker, zone, zero, money_re) in EN_ZONES:
                subject = '^' + prefix + r' (?P<service>.+), ' + EN_DATE + r'\s*$'
                emit(reservation_template(lang, kind, f'en-{tag}', subject, '{day} {mon} {year} {time}', '%d %B %Y %H:%M',
                                          zone, marker, money_re, zero))
        else:
            for i, mon in enumerate(L[lang]['months']):
                date = L[lang]['date'].format(mon=mon)
                subject = '^' + prefix + r' (?P<service>.+), ' + date + r'\s*$'
                emit(reservation_template(lang, kind, f'{lang}-{i+1:02d}', subject, '{day}.' + f'{i+1:02d}' + '.{year} {time}',
                                          '%d.%m.%Y %H:%M', L[lang]['zone'], None, L[lang]['money'], L[lang]['zero']))
    if lang == 'en':
        for (tag, marker, zone, zero, money_re) in EN_ZONES:
            emit(reminder_template(lang, f'en-{tag}', zone, marker))
    else:
        emit(reminder_template(lang, lang, L[lang]['zone'], None))
    for brand in CARD_MARKERS + ([' ending '] if lang == 'en' else []):
        emit(card_sink('receipt', lang, brand))
    emit(receipt_template(lang))
    emit(refund_sink(lang))

sys.stdout.write('\n'.join(out) + '\n')
