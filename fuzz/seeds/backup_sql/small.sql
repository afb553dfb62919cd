--
-- PostgreSQL database dump
--

\restrict dyvcHRJxc1seREvwKyULdmlqLelYRoPhEripqFmlfPlHDEsFZ0dZNr9ep3vcqID

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: appt_status; Type: TYPE; Schema: public; Owner: bookly
--

CREATE TYPE public.appt_status AS ENUM (
    'booked',
    'tentative',
    'canceled',
    'done',
    'noshow'
);


ALTER TYPE public.appt_status OWNER TO bookly;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: appointments; Type: TABLE; Schema: public; Owner: bookly
--

CREATE TABLE public.appointments (
    id bigint NOT NULL,
    code character varying(16) NOT NULL,
    shop_id integer NOT NULL,
    client_id bigint,
    service_name text NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    party_size smallint DEFAULT 1 NOT NULL,
    status public.appt_status DEFAULT 'booked'::public.appt_status NOT NULL,
    price numeric(12,2) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT appointments_party_size_check CHECK ((party_size > 0))
);


ALTER TABLE public.appointments OWNER TO bookly;

--
-- Name: appointments_id_seq; Type: SEQUENCE; Schema: public; Owner: bookly
--

CREATE SEQUENCE public.appointments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.appointments_id_seq OWNER TO bookly;

--
-- Name: appointments_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: bookly
--

ALTER SEQUENCE public.appointments_id_seq OWNED BY public.appointments.id;


--
-- Name: charges; Type: TABLE; Schema: public; Owner: bookly
--

CREATE TABLE public.charges (
    id bigint NOT NULL,
    shop_id integer NOT NULL,
    client_id bigint,
    appointment_id bigint,
    method text NOT NULL,
    stripe_charge_id text,
    stripe_payment_intent_id text,
    amount numeric(12,2) NOT NULL,
    refunded_amount numeric(12,2) DEFAULT 0 NOT NULL,
    status text NOT NULL,
    receipt_number text,
    card_last4 character(4),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT charges_method_check CHECK ((method = ANY (ARRAY['card'::text, 'cash'::text])))
);


ALTER TABLE public.charges OWNER TO bookly;

--
-- Name: charges_id_seq; Type: SEQUENCE; Schema: public; Owner: bookly
--

CREATE SEQUENCE public.charges_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.charges_id_seq OWNER TO bookly;

--
-- Name: charges_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: bookly
--

ALTER SEQUENCE public.charges_id_seq OWNED BY public.charges.id;


--
-- Name: clients; Type: TABLE; Schema: public; Owner: bookly
--

CREATE TABLE public.clients (
    id bigint NOT NULL,
    shop_id integer NOT NULL,
    full_name text NOT NULL,
    email text,
    mobile text,
    stripe_customer_id text,
    notes text,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    preferences jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone
);


ALTER TABLE public.clients OWNER TO bookly;

--
-- Name: clients_id_seq; Type: SEQUENCE; Schema: public; Owner: bookly
--

CREATE SEQUENCE public.clients_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.clients_id_seq OWNER TO bookly;

--
-- Name: clients_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: bookly
--

ALTER SEQUENCE public.clients_id_seq OWNED BY public.clients.id;


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: bookly
--

CREATE TABLE public.schema_migrations (
    version character varying(255) NOT NULL
);


ALTER TABLE public.schema_migrations OWNER TO bookly;

--
-- Name: shops; Type: TABLE; Schema: public; Owner: bookly
--

CREATE TABLE public.shops (
    id integer NOT NULL,
    name text NOT NULL,
    email text,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    currency character(3) NOT NULL,
    country character(2),
    stripe_account_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.shops OWNER TO bookly;

--
-- Name: shops_id_seq; Type: SEQUENCE; Schema: public; Owner: bookly
--

CREATE SEQUENCE public.shops_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.shops_id_seq OWNER TO bookly;

--
-- Name: shops_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: bookly
--

ALTER SEQUENCE public.shops_id_seq OWNED BY public.shops.id;


--
-- Name: appointments id; Type: DEFAULT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.appointments ALTER COLUMN id SET DEFAULT nextval('public.appointments_id_seq'::regclass);


--
-- Name: charges id; Type: DEFAULT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.charges ALTER COLUMN id SET DEFAULT nextval('public.charges_id_seq'::regclass);


--
-- Name: clients id; Type: DEFAULT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.clients ALTER COLUMN id SET DEFAULT nextval('public.clients_id_seq'::regclass);


--
-- Name: shops id; Type: DEFAULT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.shops ALTER COLUMN id SET DEFAULT nextval('public.shops_id_seq'::regclass);


--
-- Data for Name: appointments; Type: TABLE DATA; Schema: public; Owner: bookly
--

COPY public.appointments (id, code, shop_id, client_id, service_name, starts_at, ends_at, party_size, status, price, created_at, updated_at, deleted_at) FROM stdin;
1	BK-DUE4Q	9	1	Signature Facial	2025-05-26 17:15:00+00	2025-05-26 18:15:00+00	1	done	107.00	2025-05-25 02:39:25+00	2025-05-26 21:28:00+00	\N
2	BK-UYJVK	4	2	Men's Haircut	2025-06-19 16:15:00+00	2025-06-19 16:45:00+00	1	done	29.00	2025-06-02 08:26:46+00	2025-06-19 19:27:00+00	\N
3	BK-68P4B	9	1	Full Colour	2025-06-06 13:30:00+00	2025-06-06 15:30:00+00	1	done	166.00	2025-06-04 11:01:38+00	2025-06-06 19:27:00+00	\N
4	BK-QU9VE	4	3	Lash Lift	2025-07-24 12:45:00+00	2025-07-24 13:30:00+00	1	done	50.00	2025-06-05 10:34:12+00	2025-07-24 17:06:00+00	\N
5	BK-P48YA	4	4	Women's Haircut	2025-06-23 09:00:00+00	2025-06-23 10:00:00+00	1	done	54.00	2025-06-12 20:56:23+00	2025-06-23 14:26:00+00	\N
6	BK-DCMAE	5	5	Men's Haircut	2025-06-16 12:45:00+00	2025-06-16 13:15:00+00	1	done	32.00	2025-06-13 02:02:01+00	2025-06-16 18:25:00+00	\N
7	BK-ST3ZY	4	3	Balayage	2025-06-14 11:30:00+00	2025-06-14 14:30:00+00	1	canceled	183.00	2025-06-13 18:45:27+00	2025-06-13 23:47:31+00	\N
8	BK-BXRA3	5	6	Lash Lift	2025-06-17 08:30:00+00	2025-06-17 09:15:00+00	1	done	54.00	2025-06-14 04:18:33+00	2025-06-17 12:55:00+00	\N
9	BK-KXLVB	3	7	Women's Haircut	2025-06-20 21:15:00+00	2025-06-20 22:15:00+00	1	done	73.00	2025-06-14 04:54:37+00	2025-06-21 01:06:00+00	\N
10	BK-37KJM	1	8	Deep Tissue Massage – 60 min	2025-06-23 10:30:00+00	2025-06-23 11:30:00+00	2	done	228.00	2025-06-15 00:40:50+00	2025-06-23 15:18:00+00	\N
11	BK-35UW3	3	7	Deep Tissue Massage – 60 min	2025-07-04 19:15:00+00	2025-07-04 20:15:00+00	1	done	107.00	2025-06-15 00:46:41+00	2025-07-05 01:20:00+00	\N
12	BK-6T8ZF	3	9	Signature Facial	2025-06-20 20:45:00+00	2025-06-20 21:45:00+00	1	done	101.00	2025-06-16 14:56:21+00	2025-06-21 00:30:00+00	\N
13	BK-TW4PL	6	10	Gel Manicure	2025-06-18 21:30:00+00	2025-06-18 22:15:00+00	1	done	42.00	2025-06-17 23:13:01+00	2025-06-19 04:10:00+00	\N
14	BK-5N4ZY	5	11	Women's Haircut	2025-06-30 15:45:00+00	2025-06-30 16:45:00+00	1	done	59.00	2025-06-18 20:39:05+00	2025-06-30 22:38:00+00	\N
15	BK-NZQ3Z	10	12	Signature Facial	2025-06-25 20:00:00+00	2025-06-25 21:00:00+00	2	done	220.00	2025-06-19 16:02:47+00	2025-06-25 23:41:00+00	\N
16	BK-BKLMB	5	13	Lash Lift	2025-07-04 14:30:00+00	2025-07-04 15:15:00+00	1	done	54.00	2025-06-20 16:01:08+00	2025-07-04 19:19:00+00	\N
17	BK-NRC6A	8	14	Brow Shape & Tint	2025-06-28 07:30:00+00	2025-06-28 08:00:00+00	1	done	34.00	2025-06-21 15:00:02+00	2025-06-28 12:50:00+00	\N
18	BK-LXQRE	6	15	Pedicure	2025-07-24 16:15:00+00	2025-07-24 17:15:00+00	1	done	52.00	2025-06-21 18:25:13+00	2025-07-24 22:38:00+00	\N
19	BK-AJPRF	10	16	Gel Manicure	2025-06-23 20:15:00+00	2025-06-23 21:00:00+00	1	canceled	49.00	2025-06-22 02:06:39+00	2025-06-23 03:24:08+00	\N
20	BK-H8DPH	10	17	Balayage	2025-08-05 20:15:00+00	2025-08-05 23:15:00+00	1	done	269.00	2025-06-26 11:12:10+00	2025-08-06 03:30:00+00	\N
21	BK-LN9K9	9	18	Lash Lift	2025-07-04 13:45:00+00	2025-07-04 14:30:00+00	1	done	71.00	2025-07-01 19:09:27+00	2025-07-04 16:58:00+00	\N
22	BK-ZQ7W3	6	19	Full Colour	2025-07-11 17:15:00+00	2025-07-11 19:15:00+00	1	done	146.00	2025-07-07 04:30:15+00	2025-07-12 00:53:00+00	\N
23	BK-RMYZU	5	13	Deep Tissue Massage – 60 min	2025-08-20 14:30:00+00	2025-08-20 15:30:00+00	1	done	86.00	2025-07-13 01:19:00+00	2025-08-20 21:18:00+00	\N
24	BK-44ZQM	6	19	Women's Haircut	2025-07-24 16:00:00+00	2025-07-24 17:00:00+00	1	canceled	68.00	2025-07-16 10:45:36+00	2025-07-19 19:12:35+00	\N
25	BK-ZTKNL	5	20	Women's Haircut	2025-07-16 15:15:00+00	2025-07-16 16:15:00+00	1	done	59.00	2025-07-16 13:44:14+00	2025-07-16 18:50:00+00	\N
26	BK-3JPN3	1	8	Brow Shape & Tint	2025-08-18 15:30:00+00	2025-08-18 16:00:00+00	1	done	36.00	2025-07-19 20:11:05+00	2025-08-18 20:49:00+00	\N
27	BK-UCJJT	6	19	Gel Manicure	2025-08-18 21:00:00+00	2025-08-18 21:45:00+00	1	done	42.00	2025-07-25 19:31:32+00	2025-08-19 02:49:00+00	\N
28	BK-CR3C3	4	4	Full Colour	2025-08-14 16:15:00+00	2025-08-14 18:15:00+00	1	done	116.50	2025-07-28 08:46:29+00	2025-08-14 23:12:00+00	\N
29	BK-DKQZB	9	21	Gel Manicure	2025-08-04 20:00:00+00	2025-08-04 20:45:00+00	1	done	47.00	2025-07-30 01:48:11+00	2025-08-05 00:19:00+00	\N
30	BK-ZLCTK	10	17	Gel Manicure	2025-08-01 17:15:00+00	2025-08-01 18:00:00+00	1	done	49.00	2025-07-31 04:26:03+00	2025-08-01 20:49:00+00	\N
\.


--
-- Data for Name: charges; Type: TABLE DATA; Schema: public; Owner: bookly
--

COPY public.charges (id, shop_id, client_id, appointment_id, method, stripe_charge_id, stripe_payment_intent_id, amount, refunded_amount, status, receipt_number, card_last4, created_at) FROM stdin;
1	9	1	1	card	ch_6THN0OAC1GvkTW3vRnCGn8At	pi_Cu5aDRgjeBBWyWUhBtK5oW4z	107.00	0.00	paid	6755-1709	6134	2025-05-25 02:40:13+00
2	4	2	2	card	ch_OYmMYWs3sNHIkzTinVY82ObL	pi_qMD3VJ1Gr841Opdj1ifPoaRK	29.00	0.00	paid	5155-2379	8051	2025-06-02 08:28:36+00
3	9	1	3	card	ch_pD5uWFjpE4eLpqJC32NjwvfU	pi_vtK3OGeWXMyhM8X4u1519Z0O	166.00	0.00	paid	1451-7203	4631	2025-06-04 11:03:23+00
4	4	3	4	card	ch_EZ6KNiJCm0oeFXRVs0A93wfK	pi_pldT4bOmHzsEzmAEwkJi1RBh	50.00	0.00	disputed	3936-7226	5295	2025-06-05 10:35:29+00
5	4	4	5	card	ch_VtRNnaVBwSX1R6YhGiquSsTu	pi_KdDGMtGG9oUUqbJ32mZ81HlD	54.00	0.00	paid	3697-9380	7452	2025-06-12 20:56:59+00
6	5	5	6	card	ch_W8oTvbBjrRrey9gNtQKEtXih	pi_0oNdjuGZayRtwkI6mctNizv1	32.00	0.00	paid	3069-0344	0472	2025-06-13 02:04:00+00
7	4	3	7	card	ch_EF97YSsknhg8rYJxaAZFH07R	pi_jRQGRjoKpz48RqbqNvOXTptw	183.00	183.00	refunded	6883-9047	0376	2025-06-13 18:47:24+00
8	5	6	8	card	ch_MqxBitc8EMzQ1rXReBkSLbTI	pi_mAjc3EyLd6OdElRAjtRgQ3lS	54.00	0.00	paid	1826-8356	5518	2025-06-14 04:19:03+00
9	1	8	10	card	ch_jTivl97U5tNS4kXwJozhmqwp	pi_WEH78OJmxIXoTmMzAxeM77Tf	228.00	0.00	paid	8277-7362	0390	2025-06-15 00:41:06+00
10	6	10	13	card	ch_UVLePmGEG9hBhvuaTJZBTqJz	pi_0yYOjxxSY0jkJ3UgblK6PvqW	42.00	0.00	paid	4833-4061	2695	2025-06-17 23:13:36+00
11	5	11	14	card	ch_CtIHAzRehXxS8ZMsFqevaRvl	pi_paRjdkqaatcsnxaCS4vOgvXb	59.00	0.00	paid	4304-3111	6513	2025-06-18 20:39:47+00
12	10	12	15	card	ch_LiW9IPwy6lRP4fs9NmI8mklZ	pi_V8xpBEY9N7cFYDq45Tjqi9Vm	220.00	0.00	paid	8621-7193	3194	2025-06-19 16:04:00+00
13	5	13	16	card	ch_eJRgyRrQke4REG9IC1goBniL	pi_Fy0cPh6R3daYPkcLEuDn4xlC	54.00	0.00	paid	0758-5134	7042	2025-06-20 16:02:48+00
14	3	9	12	cash	\N	\N	101.00	0.00	paid	\N	\N	2025-06-20 20:45:00+00
15	3	7	9	cash	\N	\N	73.00	0.00	paid	\N	\N	2025-06-20 21:15:00+00
16	8	14	17	card	ch_iTlQABvOnb6sufVtXraVext1	pi_dxiCtNpMXUMhxCW0vHD58RIU	34.00	0.00	paid	5664-2982	4993	2025-06-21 15:00:47+00
17	6	15	18	card	ch_qIFUk4p0It5cEQgbYhob6b9Y	pi_BgJR7CEzCPbdEMDs3oQAodB4	52.00	0.00	paid	0899-9229	3384	2025-06-21 18:26:11+00
18	10	16	19	card	ch_4SEabjNOTWDXMJ206nh3jMdK	pi_9XQfRmUD1I25YzIR3wjxZawO	49.00	49.00	refunded	4444-2997	4992	2025-06-22 02:07:06+00
19	10	17	20	card	ch_TmCy4AZ6dIYtT6ZeL7CMFH4W	pi_yhdNrLEHXQJrw5ZwIKgslKIi	269.00	0.00	paid	4489-4108	2036	2025-06-26 11:13:42+00
20	3	7	11	cash	\N	\N	107.00	0.00	paid	\N	\N	2025-07-04 19:15:00+00
21	6	19	22	card	ch_afSps6e9CIrEEnqmkCkmgbpd	pi_nd76PIORaWAgPpQFsLxnjf5h	146.00	0.00	paid	7393-9064	0838	2025-07-07 04:32:08+00
22	6	19	24	card	ch_0jVyLaNHirVi4kXhC5ZRQ1hR	pi_OOAYySou3q2ul8fhattyIOxm	68.00	68.00	refunded	6318-3436	5677	2025-07-16 10:46:29+00
23	5	20	25	card	ch_HdqgEGCtA02J9b0rzenSRnH0	pi_CWeWzdC3p69xRWy4IPBW9Xej	59.00	0.00	paid	1013-6047	4646	2025-07-16 13:44:29+00
24	1	8	26	card	ch_nlN2WdLfQMkG65KzUUJ4ONuf	pi_FGxSJNS8qu8BQyBSWQDmw70O	36.00	0.00	paid	3354-7680	4194	2025-07-19 20:11:59+00
25	6	19	27	card	ch_DWlucI1faLBqRvU40SmBXCtA	pi_KZhMPo7HSx0fpnKqmdZjksSo	42.00	0.00	paid	0846-7300	2251	2025-07-25 19:33:30+00
\.


--
-- Data for Name: clients; Type: TABLE DATA; Schema: public; Owner: bookly
--

COPY public.clients (id, shop_id, full_name, email, mobile, stripe_customer_id, notes, tags, preferences, created_at, deleted_at) FROM stdin;
1	9	Elena Fernández	elenafernandez39@comcast.net	(366) 897-6753	cus_URwp3SanrxUT6z	Regular since 2019 — always asks for María	{}	{"channel": "sms", "reminders": true}	2025-05-25 02:39:25+00	\N
2	4	Emma Miller	emiller@gmail.com	+447772425431	cus_kWtnk9LofRsi0x	\N	{}	{"channel": "sms", "reminders": true}	2025-06-02 08:26:46+00	\N
3	4	Daniel Patel	daniel.patel@icloud.com	+447151784383	cus_kjQAGMwdfRPR37	\N	{}	\N	2025-06-05 10:34:12+00	\N
4	4	Sarah Jensen	jensen.sarah@icloud.com	\N	cus_Ggg5f4XLhnbSYY	\N	{}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 31}	2025-06-12 20:56:23+00	\N
5	5	Jürgen Weiß	weiss.jurgen@hotmail.com	+33681042802	cus_hZQFHWtfS2nNMK	\N	{}	{"lang": "de", "channel": "email", "reminders": false}	2025-06-13 02:02:01+00	\N
6	5	Lê Thị Hương	huong_le99@hotmail.com	+33704401931	cus_W7Lu3MPlM7AyXs	\N	{}	{"channel": "sms", "reminders": true}	2025-06-14 04:18:33+00	\N
7	3	Oliver Martin	olivermartin4@hotmail.com	(244) 386-2821	\N	\N	{}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 15}	2025-06-14 04:54:37+00	\N
8	1	Max Miller	max_miller80@icloud.com	\N	cus_eb3CDIKfpbQPS6	Paid deposit by bank transfer; scan in C:\\invoices\\2026\\044.pdf	{vip,regular,"{braces}"}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 18}	2025-06-15 00:40:50+00	\N
9	3	Giulia Walsh	giulia.walsh@comcast.net	(254) 201-1646	\N	\N	{}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 10}	2025-06-16 14:56:21+00	\N
10	6	Sofia Dubois	sofiadubois56@comcast.net	+19918049660	cus_rniip1HOHt9bTI	\N	{"back\\\\slash"}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 12}	2025-06-17 23:13:01+00	\N
11	5	Emma Dubois	dubois.emma@icloud.com	+33659592391	cus_WboXjHWWBqp9it	\N	{}	\N	2025-06-18 20:39:05+00	\N
12	10	Hannah Fischer	hfischer@icloud.com	+13732820984	cus_3pzTC4ILUjl3nX		{"has,comma","{braces}",""}	\N	2025-06-19 16:02:47+00	\N
13	5	Jack Lefèvre	jack.lefevre@free.fr	+33749691056	cus_9WHcutv1HHNi5W	tab\tseparated\tvalues\tpasted\tfrom a sheet	{}	{"channel": "sms", "reminders": true}	2025-06-20 16:01:08+00	\N
14	8	Lucas Müller	muller.lucas@yahoo.com	\N	cus_hxQs6n7f7gjDgC	tab\tseparated\tvalues\tpasted\tfrom a sheet	{}	\N	2025-06-21 15:00:02+00	\N
15	6	Mei Miller	meimiller88@proton.me	+16193937815	cus_kwiL8RJnBVSfPH	\N	{}	\N	2025-06-21 18:25:13+00	\N
16	10	Mia Khan	mia_khan84@hotmail.com	\N	cus_NfOdyU1q1jxAaQ	\N	{}	{"lang": "de", "channel": "email", "reminders": false}	2025-06-22 02:06:39+00	\N
17	10	Ava López	ava.lopez@yahoo.com	(354) 592-0393	cus_fL94Iw9M7KkWpR	\N	{}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 1}	2025-06-26 11:12:10+00	\N
18	9	Liam Bauer	liam.bauer@gmail.com	(596) 850-3837	cus_hzJMKprd40I5bP		{vip,"back\\\\slash"}	{"lang": "de", "channel": "email", "reminders": false}	2025-07-01 19:09:27+00	\N
19	6	Sarah Walsh	sarah.walsh@comcast.net	\N	cus_nFk2485fjT2IqM	\N	{""}	{"lang": "de", "channel": "email", "reminders": false}	2025-07-07 04:30:15+00	\N
20	5	Olivia Papadopoulos	oliviapapadopoulos38@laposte.net	07 73 10 05 35	cus_V0gHhLEjl9Hmts	\N	{}	{"lang": "de", "channel": "email", "reminders": false}	2025-07-16 13:44:14+00	\N
21	9	Ava Dubois	ava.dubois@aol.com	(571) 969-9094	cus_HpoMzYxSiFngEQ	\N	{regular,"NULL",étudiant}	{"note": "line1\\nline2 \\"quoted\\" \\\\ done", "stylist_id": 27}	2025-07-30 01:48:11+00	\N
\.


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: bookly
--

COPY public.schema_migrations (version) FROM stdin;
20230114093000
20230302120000
20230911081500
20240205170000
20240619101500
20250127094500
\.


--
-- Data for Name: shops; Type: TABLE DATA; Schema: public; Owner: bookly
--

COPY public.shops (id, name, email, timezone, currency, country, stripe_account_id, created_at) FROM stdin;
1	Hair by Björn	bookings@hairbybjorn.de	Europe/Berlin	eur	DE	acct_DRB4Mp1NYnrX7QHq	2021-05-25 07:27:46+00
2	Kopfsache & Studio 9 Beauty Lounge	bookings@kopfsachestudio9beautylounge.de	Europe/Berlin	eur	DE	\N	2021-06-19 07:18:48+00
3	Jack's Barbers	info@jacksbarbers.com	America/Chicago	usd	US	\N	2021-12-12 12:44:32+00
4	Olive & Nova Hair Studio	info@olivenovahairstudio.co.uk	Europe/London	gbp	GB	acct_Be8k1GQcdcRCt6y8	2022-06-08 22:24:12+00
5	Amélie & Honey Brow & Lash	ameliehoneybrowlash@gmail.com	Europe/Paris	eur	FR	acct_qbLuMH8QTC2S0GmU	2022-07-24 09:21:44+00
6	Atelier Day Spa	bookings@atelierdayspa.com	America/Chicago	usd	US	acct_ziWhMFFTVlmoNRba	2023-05-25 12:27:08+00
7	Hair by Chris	hello@hairbychris.com.au	Australia/Perth	aud	AU	acct_nM5byfWlVn34ziyn	2023-07-06 07:13:49+00
8	Hair by José	hello@hairbyjose.fr	Europe/Paris	eur	FR	acct_1dcopPclpqVoZaF8	2023-09-10 11:37:45+00
9	Willow Spa	hello@willowspa.com	America/New_York	usd	US	acct_cdieprl4iW4UUBqm	2024-08-14 17:15:21+00
10	Sage Salon	hello@sagesalon.com	America/Denver	usd	US	acct_pBzTCozkgkBiUOxa	2025-04-12 19:24:31+00
11	Leo's Wellness	hello@leoswellness.com	America/Phoenix	usd	US	acct_1TWjnQXCo7q4ThWX	2025-06-24 16:04:57+00
12	Seán's Skin Clinic	info@seansskinclinic.co.uk	Europe/London	gbp	GB	\N	2026-08-15 06:31:56+00
\.


--
-- Name: appointments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: bookly
--

SELECT pg_catalog.setval('public.appointments_id_seq', 613, true);


--
-- Name: charges_id_seq; Type: SEQUENCE SET; Schema: public; Owner: bookly
--

SELECT pg_catalog.setval('public.charges_id_seq', 532, true);


--
-- Name: clients_id_seq; Type: SEQUENCE SET; Schema: public; Owner: bookly
--

SELECT pg_catalog.setval('public.clients_id_seq', 194, true);


--
-- Name: shops_id_seq; Type: SEQUENCE SET; Schema: public; Owner: bookly
--

SELECT pg_catalog.setval('public.shops_id_seq', 12, true);


--
-- Name: appointments appointments_code_key; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_code_key UNIQUE (code);


--
-- Name: appointments appointments_pkey; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_pkey PRIMARY KEY (id);


--
-- Name: charges charges_pkey; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.charges
    ADD CONSTRAINT charges_pkey PRIMARY KEY (id);


--
-- Name: clients clients_pkey; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: shops shops_pkey; Type: CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT shops_pkey PRIMARY KEY (id);


--
-- Name: appointments_shop_id_starts_at_idx; Type: INDEX; Schema: public; Owner: bookly
--

CREATE INDEX appointments_shop_id_starts_at_idx ON public.appointments USING btree (shop_id, starts_at);


--
-- Name: charges_stripe_charge_id_idx; Type: INDEX; Schema: public; Owner: bookly
--

CREATE INDEX charges_stripe_charge_id_idx ON public.charges USING btree (stripe_charge_id);


--
-- Name: clients_shop_id_email_idx; Type: INDEX; Schema: public; Owner: bookly
--

CREATE INDEX clients_shop_id_email_idx ON public.clients USING btree (shop_id, email);


--
-- Name: appointments appointments_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id);


--
-- Name: appointments appointments_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.appointments
    ADD CONSTRAINT appointments_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: charges charges_appointment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.charges
    ADD CONSTRAINT charges_appointment_id_fkey FOREIGN KEY (appointment_id) REFERENCES public.appointments(id);


--
-- Name: charges charges_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.charges
    ADD CONSTRAINT charges_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id);


--
-- Name: charges charges_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.charges
    ADD CONSTRAINT charges_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: clients clients_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: bookly
--

ALTER TABLE ONLY public.clients
    ADD CONSTRAINT clients_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- PostgreSQL database dump complete
--

\unrestrict dyvcHRJxc1seREvwKyULdmlqLelYRoPhEripqFmlfPlHDEsFZ0dZNr9ep3vcqID

