/* The hot path of daemon.ring in C: append and publish records, take them, and sleep until there are some.
 *
 * Same layout, counters and memory orderings as described in daemon/ring.py's docstring (read it first);
 * this file only moves the per-record work out of the interpreter, where it cost ~1.5 us a record on
 * each side. Atomics are C11 <stdatomic.h> on the shared mapping: lock-free 32- and 64-bit operations on
 * both x86_64 and aarch64. The futex wait runs with the GIL released.
 *
 * CRC-32C (Castagnoli, as google-crc32c computes it) uses the CPU's instruction where there is one
 * (SSE4.2, ARMv8 CRC) and a table otherwise; tests/test_ring.py checks it against google-crc32c.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

/* Byte offsets in the segment; daemon/ring.py imports them from here. */
enum {
    OFF_HEAD = 0, OFF_TAIL = 64, OFF_WAKE = 128, OFF_WAITING = 132, OFF_CAP = 192, OFF_POLICY = 200,
    OFF_DROPS = 256, OFF_PGEN = 320, OFF_CGEN = 328, OFF_CORRUPT = 336, OFF_DATA = 384,
};
#define REC 8u /* u32 length, u32 CRC-32C */
#define WRAP 0xFFFFFFFFu

/* -- CRC-32C ------------------------------------------------------------------------------------ */
static uint32_t crc_table[256];
static int crc_hw;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
#elif defined(__aarch64__)
    crc_hw = (getauxval(AT_HWCAP) & (1 << 7)) != 0; /* HWCAP_CRC32 */
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_fast(uint32_t c, const uint8_t *p, size_t n) {
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = (uint32_t)__builtin_ia32_crc32di(c, w);
    }
    for (; n; n--) c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#elif defined(__aarch64__)
__attribute__((target("+crc"))) static uint32_t crc_fast(uint32_t c, const uint8_t *p, size_t n) {
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_aarch64_crc32cx(c, w);
    }
    for (; n; n--) c = __builtin_aarch64_crc32cb(c, *p++);
    return c;
}
#endif

static uint32_t crc32c_with(int hardware, const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
#if defined(__x86_64__) || defined(__aarch64__)
    if (hardware) return ~crc_fast(c, p, n);
#endif
    for (; n; n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static inline uint32_t crc32c(const uint8_t *p, size_t n) { return crc32c_with(crc_hw, p, n); }

static PyObject *py_crc32c(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer b;
    int hardware = 1;
    if (!PyArg_ParseTuple(args, "y*|p", &b, &hardware)) return NULL;
    uint32_t c = crc32c_with(hardware && crc_hw, b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

/* -- the ring ------------------------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    Py_buffer view; /* the mapping; view.obj is NULL once closed */
    uint8_t *base;
    uint64_t cap;
    int drop_oldest;
    /* Each side's cached copy of the other side's counter (see ring.py): reloaded only when it says
       "full" (producer) or "empty" (consumer). */
    uint64_t tail_seen, head_seen;
} Core;

#define U64(c, off) ((_Atomic uint64_t *)((c)->base + (off)))
#define U32(c, off) ((_Atomic uint32_t *)((c)->base + (off)))

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline uint64_t align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
    return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

static int open_ok(Core *c) {
    if (c->view.obj == NULL) {
        PyErr_SetString(PyExc_ValueError, "ring is closed");
        return 0;
    }
    return 1;
}

static int core_init(Core *c, PyObject *args, PyObject *Py_UNUSED(kw)) {
    PyObject *buf;
    int prefault = 0;
    if (!PyArg_ParseTuple(args, "O|p", &buf, &prefault)) return -1;
    if (PyObject_GetBuffer(buf, &c->view, PyBUF_WRITABLE) < 0) return -1;
    if (c->view.len < OFF_DATA || ((uintptr_t)c->view.buf & 63)) {
        PyBuffer_Release(&c->view);
        PyErr_SetString(PyExc_ValueError, "not a ring segment (too small or misaligned)");
        return -1;
    }
    c->base = c->view.buf;
    c->cap = atomic_load_explicit(U64(c, OFF_CAP), memory_order_acquire);
    c->drop_oldest = atomic_load_explicit(U32(c, OFF_POLICY), memory_order_acquire) == 1;
    if (c->cap == 0 || c->cap % 8 || (Py_ssize_t)(OFF_DATA + c->cap) > c->view.len) {
        PyBuffer_Release(&c->view);
        PyErr_SetString(PyExc_ValueError, "ring segment header does not match its size");
        return -1;
    }
    if (prefault) {
        /* Map every page now, writable: first touches otherwise cost a page fault (10-40 us on a VM)
           every few dozen small records until the ring has wrapped once, which was the ring's p99.
           An atomic add of 0 changes nothing even while the other side is writing the same bytes. */
        long page = sysconf(_SC_PAGESIZE);
        for (Py_ssize_t off = 0; off + 8 <= c->view.len; off += page)
            atomic_fetch_add_explicit(U64(c, off), 0, memory_order_relaxed);
    }
    return 0;
}

static void core_dealloc(Core *c) {
    if (c->view.obj != NULL) PyBuffer_Release(&c->view);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyObject *core_close(Core *c, PyObject *Py_UNUSED(ignored)) {
    if (c->view.obj != NULL) PyBuffer_Release(&c->view);
    c->base = NULL;
    Py_RETURN_NONE;
}

/* Drop-oldest: advance tail past the oldest record or wrap gap; 0 if there is none. */
static int drop_one(Core *c, uint64_t tail, uint64_t head) {
    if (tail == head) return 0;
    uint64_t pos = tail % c->cap, room = c->cap - pos;
    uint32_t length = room >= 4 ? rd32(c->base + OFF_DATA + pos) : WRAP;
    uint64_t step = length == WRAP ? room : align8(REC + (uint64_t)length);
    uint64_t expected = tail;
    if (atomic_compare_exchange_strong_explicit(U64(c, OFF_TAIL), &expected, tail + step, memory_order_seq_cst,
                                                memory_order_seq_cst) && length != WRAP)
        atomic_fetch_add_explicit(U64(c, OFF_DROPS), 1, memory_order_relaxed);
    return 1;
}

/* Write one record at *head, not yet visible to the consumer: 1 written (head advanced), 0 dropped,
   -1 error set. */
static int append(Core *c, const uint8_t *data, uint64_t n, uint64_t *head, uint64_t published) {
    uint64_t cap = c->cap, need = align8(REC + n);
    if (need > cap) {
        PyErr_Format(PyExc_ValueError, "record of %llu bytes exceeds capacity %llu", (unsigned long long)n,
                     (unsigned long long)cap);
        return -1;
    }
    uint64_t pos = *head % cap, gap = cap - pos < need ? cap - pos : 0;
    /* head >= tail >= tail_seen, so the difference cannot wrap (a fresh side's tail_seen is 0) */
    while (*head - c->tail_seen + gap + need > cap) {
        uint64_t tail = atomic_load_explicit(U64(c, OFF_TAIL), memory_order_acquire);
        if (tail != c->tail_seen) {
            c->tail_seen = tail;
            continue;
        }
        if (!c->drop_oldest || !drop_one(c, tail, published)) {
            atomic_fetch_add_explicit(U64(c, OFF_DROPS), 1, memory_order_relaxed);
            return 0;
        }
    }
    uint8_t *area = c->base + OFF_DATA;
    if (gap) {
        wr32(area + pos, WRAP);
        pos = 0;
    }
    wr32(area + pos, (uint32_t)n);
    wr32(area + pos + 4, crc32c(data, n));
    memcpy(area + pos + REC, data, n);
    *head += gap + need;
    return 1;
}

static void publish(Core *c, uint64_t head) {
    atomic_store_explicit(U64(c, OFF_HEAD), head, memory_order_seq_cst); /* release + Dekker with waiting */
    if (atomic_load_explicit(U32(c, OFF_WAITING), memory_order_seq_cst)) {
        atomic_fetch_add_explicit(U32(c, OFF_WAKE), 1, memory_order_seq_cst);
        futex(U32(c, OFF_WAKE), FUTEX_WAKE, 1, NULL);
    }
}

static PyObject *core_put(Core *c, PyObject *arg) {
    if (!open_ok(c)) return NULL;
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    uint64_t head = atomic_load_explicit(U64(c, OFF_HEAD), memory_order_relaxed); /* only we write it */
    int r = append(c, b.buf, (uint64_t)b.len, &head, head);
    PyBuffer_Release(&b);
    if (r < 0) return NULL;
    if (r) publish(c, head);
    return PyBool_FromLong(r);
}

static PyObject *core_put_many(Core *c, PyObject *arg) {
    if (!open_ok(c)) return NULL;
    PyObject *seq = PySequence_Fast(arg, "put_many takes a sequence of bytes-like records");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq), stored = 0;
    uint64_t published = atomic_load_explicit(U64(c, OFF_HEAD), memory_order_relaxed), head = published;
    int r = 1;
    for (; stored < count; stored++) {
        Py_buffer b;
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, stored), &b, PyBUF_SIMPLE) < 0) {
            r = -1;
            break;
        }
        r = append(c, b.buf, (uint64_t)b.len, &head, published);
        PyBuffer_Release(&b);
        if (r <= 0) break;
    }
    Py_DECREF(seq);
    if (r == 0) /* append counted the record that did not fit; the rest are dropped with it */
        atomic_fetch_add_explicit(U64(c, OFF_DROPS), (uint64_t)(count - stored - 1), memory_order_relaxed);
    if (head != published) publish(c, head); /* what was appended before an error is delivered */
    if (r < 0) return NULL;
    return PyLong_FromSsize_t(stored);
}

/* Up to `limit` records in order, taken with one tail update; appended to `out`. */
static int take(Core *c, Py_ssize_t limit, PyObject *out) {
    uint64_t cap = c->cap;
    const uint8_t *area = c->base + OFF_DATA;
    for (;;) {
        uint64_t first = atomic_load_explicit(U64(c, OFF_TAIL), memory_order_acquire), tail = first;
        uint64_t head = c->head_seen;
        if (tail >= head) {
            head = c->head_seen = atomic_load_explicit(U64(c, OFF_HEAD), memory_order_acquire);
            if (tail == head) return 0;
        }
        Py_ssize_t got = 0, bad = 0, start = PyList_GET_SIZE(out);
        while (got < limit) {
            if (tail >= head) { /* the cached head is used up: there may be more since */
                head = c->head_seen = atomic_load_explicit(U64(c, OFF_HEAD), memory_order_acquire);
                if (tail >= head) break;
            }
            uint64_t pos = tail % cap, room = cap - pos;
            uint32_t length = room >= REC ? rd32(area + pos) : WRAP;
            if (length == WRAP) {
                tail += room;
                continue;
            }
            if (REC + (uint64_t)length > room) break; /* a damaged length: handled below, alone */
            PyObject *rec = PyBytes_FromStringAndSize((const char *)area + pos + REC, length);
            if (rec == NULL) return -1;
            tail += align8(REC + (uint64_t)length);
            if (crc32c((const uint8_t *)PyBytes_AS_STRING(rec), length) == rd32(area + pos + 4)) {
                int e = PyList_Append(out, rec);
                Py_DECREF(rec);
                if (e < 0) return -1;
                got++;
            } else {
                Py_DECREF(rec);
                bad++;
            }
        }
        if (tail == first) { /* the first record's length runs past the end of the area */
            if (atomic_load_explicit(U64(c, OFF_TAIL), memory_order_acquire) == first) { /* not a drop race */
                atomic_fetch_add_explicit(U64(c, OFF_CORRUPT), 1, memory_order_relaxed);
                uint64_t expected = first;
                atomic_compare_exchange_strong_explicit(U64(c, OFF_TAIL), &expected, head, memory_order_seq_cst,
                                                        memory_order_seq_cst);
            }
            continue;
        }
        uint64_t expected = first;
        if (!atomic_compare_exchange_strong_explicit(U64(c, OFF_TAIL), &expected, tail, memory_order_seq_cst,
                                                     memory_order_seq_cst)) {
            /* the producer dropped records while we copied them: take them again */
            if (PyList_SetSlice(out, start, PyList_GET_SIZE(out), NULL) < 0) return -1;
            continue;
        }
        if (bad) atomic_fetch_add_explicit(U64(c, OFF_CORRUPT), (uint64_t)bad, memory_order_relaxed);
        if (got) return 0;
    }
}

static PyObject *core_take(Core *c, PyObject *arg) {
    if (!open_ok(c)) return NULL;
    Py_ssize_t limit = PyLong_AsSsize_t(arg);
    if (limit == -1 && PyErr_Occurred()) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    if (limit > 0 && take(c, limit, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *core_take_one(Core *c, PyObject *Py_UNUSED(ignored)) {
    if (!open_ok(c)) return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    if (take(c, 1, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *rec = PyList_GET_SIZE(out) ? PyList_GET_ITEM(out, 0) : Py_None;
    Py_INCREF(rec);
    Py_DECREF(out);
    return rec;
}

/* Sleep until the producer publishes, or `timeout` seconds (negative: no limit). Returns at once if
   there is something to read. Spurious returns are allowed: the caller loops. */
static PyObject *core_wait(Core *c, PyObject *arg) {
    if (!open_ok(c)) return NULL;
    double timeout = PyFloat_AsDouble(arg);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    struct timespec ts, *tsp = NULL;
    if (timeout >= 0) {
        ts.tv_sec = (time_t)timeout;
        ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
        tsp = &ts;
    }
    uint32_t seq = atomic_load_explicit(U32(c, OFF_WAKE), memory_order_acquire);
    atomic_store_explicit(U32(c, OFF_WAITING), 1, memory_order_seq_cst);
    if (atomic_load_explicit(U64(c, OFF_HEAD), memory_order_seq_cst) ==
        atomic_load_explicit(U64(c, OFF_TAIL), memory_order_acquire)) {
        Py_BEGIN_ALLOW_THREADS
        futex(U32(c, OFF_WAKE), FUTEX_WAIT, seq, tsp);
        Py_END_ALLOW_THREADS
    }
    atomic_store_explicit(U32(c, OFF_WAITING), 0, memory_order_seq_cst);
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"put", (PyCFunction)core_put, METH_O, "Append and publish one record: False if it was dropped."},
    {"put_many", (PyCFunction)core_put_many, METH_O, "Append records, publish them together; how many fit."},
    {"take", (PyCFunction)core_take, METH_O, "Up to N pending records, in order ([] if none)."},
    {"take_one", (PyCFunction)core_take_one, METH_NOARGS, "The next record, or None."},
    {"wait", (PyCFunction)core_wait, METH_O, "Sleep until a record is published or the timeout (s; <0: none)."},
    {"close", (PyCFunction)core_close, METH_NOARGS, "Release the mapping's buffer."},
    {NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "daemon._ringcore.Core",
    .tp_doc = "Core(segment, prefault=False): one side's view of a ring segment (a writable buffer over all\n"
              "of it); prefault maps every page at once.",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)core_init,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_methods = core_methods,
};

static PyMethodDef module_methods[] = {
    {"crc32c", py_crc32c, METH_VARARGS,
     "crc32c(data, hardware=True): CRC-32C of a bytes-like object, as google-crc32c computes it; with\n"
     "hardware=False, the table used on CPUs without a CRC instruction."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "daemon._ringcore", .m_doc = "The hot path of daemon.ring, in C.", .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ringcore(void) {
    crc_init();
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(m);
        return NULL;
    }
    const struct { const char *name; long value; } consts[] = {
        {"HEAD", OFF_HEAD}, {"TAIL", OFF_TAIL}, {"WAKE", OFF_WAKE}, {"WAITING", OFF_WAITING}, {"CAP", OFF_CAP},
        {"POLICY", OFF_POLICY}, {"DROPS", OFF_DROPS}, {"PGEN", OFF_PGEN}, {"CGEN", OFF_CGEN},
        {"CORRUPT", OFF_CORRUPT}, {"DATA", OFF_DATA}, {"RECORD_HEADER", REC}, {"WRAP", WRAP},
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
        if (PyModule_AddIntConstant(m, consts[i].name, consts[i].value) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    return m;
}
