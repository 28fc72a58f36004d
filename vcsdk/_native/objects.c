/* vcsdk._native._objects: Python objects for the verify hot path, made through Python's C API.
 *
 * texts(payload, slots, starts): the UTF-8 text fields of a payload that the C claims reader
 * (claims.c) located, each ``slots[i]`` an offset and ``slots[i + 1]`` a length (a negative
 * offset: an absent field, None). Every span is checked against the payload; a span outside it
 * or text that is not UTF-8 raises ValueError (the reader has already checked both).
 *
 * Maker: positional constructors for frozen, slotted dataclasses.
 *
 * A Maker is made once per class from the class and its field names, in field order. It looks up
 * each name's member descriptor and keeps the slot's offset in the instance. A call with exactly
 * one value per field creates the instance with object.__new__ and stores a new reference to each
 * value in its slot: what the member descriptors' __set__ would do, without one Python-level call
 * per field. It runs no __init__ or __post_init__ (the values are already checked).
 *
 * A Maker refuses at creation any name whose descriptor is not an object slot (T_OBJECT_EX) that
 * is writable and belongs to the class or one of its bases; a call refuses any other number of
 * values, and keyword arguments. Python's own slot_constructor (vcsdk/_slots.py) is the reference
 * and the fallback when this module is not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#define MAKER_MAX_FIELDS 64

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    Py_ssize_t count;
    Py_ssize_t offsets[MAKER_MAX_FIELDS];
} Maker;

static PyObject *empty_tuple;
static newfunc python_new; /* the tp_new of a class whose __new__ is written in Python (slot_tp_new) */

static PyObject *maker_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Maker *maker = (Maker *)self;
    Py_ssize_t count = PyVectorcall_NARGS(nargsf);
    if (maker->cls == NULL) { /* first: the messages below name the class */
        PyErr_SetString(PyExc_TypeError, "this slot maker was cleared");
        return NULL;
    }
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_Format(PyExc_TypeError, "make_%s() takes no keyword arguments", maker->cls->tp_name);
        return NULL;
    }
    if (count != maker->count) {
        PyErr_Format(PyExc_TypeError, "make_%s() takes %zd positional arguments but %zd were given",
                     maker->cls->tp_name, maker->count, count);
        return NULL;
    }
    PyObject *made = PyBaseObject_Type.tp_new(maker->cls, empty_tuple, NULL);
    if (made == NULL)
        return NULL;
    char *base = (char *)made;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject **slot = (PyObject **)(base + maker->offsets[i]);
        PyObject *old = *slot; /* NULL in a new object; kept general */
        Py_INCREF(args[i]);
        *slot = args[i];
        Py_XDECREF(old);
    }
    return made;
}

static PyObject *maker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *cls_object, *names;
    static char *keywords[] = {"cls", "names", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!:Maker", keywords, &cls_object, &PyTuple_Type, &names))
        return NULL;
    if (!PyType_Check(cls_object)) {
        PyErr_SetString(PyExc_TypeError, "Maker: cls must be a class");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)cls_object;
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (count > MAKER_MAX_FIELDS) {
        PyErr_Format(PyExc_TypeError, "Maker: at most %d fields", MAKER_MAX_FIELDS);
        return NULL;
    }
    Maker *maker = (Maker *)type->tp_alloc(type, 0);
    if (maker == NULL)
        return NULL;
    maker->vectorcall = maker_call;
    Py_INCREF(cls);
    maker->cls = cls;
    maker->count = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "Maker: field names must be str");
            goto fail;
        }
        PyObject *descr = PyObject_GetAttr(cls_object, name); /* a slot's descriptor, read off the class */
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            Py_XDECREF(descr);
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "Maker: %U is not a slot of %s", name, cls->tp_name);
            goto fail;
        }
        /* read while held: a metaclass __getattr__ may return a descriptor nothing else keeps (the
         * member table belongs to the owner, which a base of cls keeps alive) */
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        PyTypeObject *owner = ((PyDescrObject *)descr)->d_type;
        int usable = member->type == T_OBJECT_EX && !(member->flags & READONLY) && PyType_IsSubtype(cls, owner) &&
                     member->offset >= (Py_ssize_t)sizeof(PyObject) &&
                     member->offset + (Py_ssize_t)sizeof(PyObject *) <= cls->tp_basicsize;
        Py_ssize_t offset = member->offset;
        Py_DECREF(descr);
        if (!usable) {
            PyErr_Format(PyExc_TypeError, "Maker: %U is not a writable object slot of %s", name, cls->tp_name);
            goto fail;
        }
        maker->offsets[i] = offset;
    }
    /* object.__new__(cls)'s own safety check (typeobject.c, tp_new_wrapper): the most derived base
     * whose __new__ is not one written in Python must use object's; object_new called directly on
     * a subclass of dict or BaseException (say) leaves their C fields unset. */
    PyTypeObject *staticbase = cls;
    while (staticbase != NULL && staticbase->tp_new == python_new)
        staticbase = staticbase->tp_base;
    if (staticbase != NULL && staticbase->tp_new != PyBaseObject_Type.tp_new) {
        PyErr_Format(PyExc_TypeError, "Maker: object.__new__(%s) is not safe", cls->tp_name);
        goto fail;
    }
    maker->count = count;
    return (PyObject *)maker;
fail:
    Py_DECREF(maker);
    return NULL;
}

static void maker_dealloc(PyObject *self)
{
    Maker *maker = (Maker *)self;
    PyObject_GC_UnTrack(self);
    Py_CLEAR(maker->cls);
    Py_TYPE(self)->tp_free(self);
}

static int maker_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((Maker *)self)->cls);
    return 0;
}

static int maker_clear(PyObject *self)
{
    Py_CLEAR(((Maker *)self)->cls);
    ((Maker *)self)->count = 0;
    return 0;
}

static PyObject *maker_vectorcall_guard(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return PyVectorcall_Call(self, args, kwargs);
}

static PyObject *maker_repr(PyObject *self)
{
    Maker *maker = (Maker *)self;
    return PyUnicode_FromFormat("<slot maker for %s>", maker->cls == NULL ? "?" : maker->cls->tp_name);
}

static PyObject *maker_cls(PyObject *self, void *closure)
{
    (void)closure;
    PyObject *cls = (PyObject *)((Maker *)self)->cls;
    if (cls == NULL)
        Py_RETURN_NONE;
    Py_INCREF(cls);
    return cls;
}

static PyGetSetDef maker_getset[] = {
    {"cls", maker_cls, NULL, "The class this maker builds.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject MakerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "vcsdk._native._objects.Maker",
    .tp_basicsize = sizeof(Maker),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Maker(cls, names): make(*values) fills the named slots of a new cls instance.",
    .tp_new = maker_new,
    .tp_dealloc = maker_dealloc,
    .tp_traverse = maker_traverse,
    .tp_clear = maker_clear,
    .tp_call = maker_vectorcall_guard,
    .tp_vectorcall_offset = offsetof(Maker, vectorcall),
    .tp_repr = maker_repr,
    .tp_getset = maker_getset,
};

static PyObject *texts(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyBytes_Check(args[0]) || !(PyTuple_Check(args[1]) || PyList_Check(args[1])) ||
        !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "texts(payload: bytes, slots: tuple | list, starts: tuple)");
        return NULL;
    }
    const char *payload = PyBytes_AS_STRING(args[0]);
    PyObject *slots = PySequence_Fast(args[1], "texts: slots"); /* the tuple or list itself */
    if (slots == NULL)
        return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]), slot_count = PySequence_Fast_GET_SIZE(slots);
    Py_ssize_t count = PyTuple_GET_SIZE(args[2]);
    PyObject *made = PyTuple_New(count);
    if (made == NULL) {
        Py_DECREF(slots);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t start = PyLong_AsSsize_t(PyTuple_GET_ITEM(args[2], i));
        if (start == -1 && PyErr_Occurred())
            goto fail;
        if (start < 0 || start + 1 >= slot_count) {
            PyErr_SetString(PyExc_ValueError, "texts: a start is not a slot pair");
            goto fail;
        }
        PyObject *offset_item = PySequence_Fast_GET_ITEM(slots, start);
        PyObject *length_item = PySequence_Fast_GET_ITEM(slots, start + 1);
        if (!PyLong_Check(offset_item) || !PyLong_Check(length_item)) {
            /* an __index__ would run Python code that may shrink the list under this loop */
            PyErr_SetString(PyExc_TypeError, "texts: slots must be ints");
            goto fail;
        }
        long long offset = PyLong_AsLongLong(offset_item);
        long long length = PyLong_AsLongLong(length_item);
        if ((offset == -1 || length == -1) && PyErr_Occurred())
            goto fail;
        PyObject *text;
        if (offset < 0) {
            text = Py_None;
            Py_INCREF(text);
        } else if (length < 0 || offset > (long long)size || length > (long long)size - offset) {
            PyErr_SetString(PyExc_ValueError, "texts: a span lies outside the payload");
            goto fail;
        } else {
            text = PyUnicode_DecodeUTF8(payload + offset, (Py_ssize_t)length, "strict");
            if (text == NULL)
                goto fail;
        }
        PyTuple_SET_ITEM(made, i, text);
    }
    Py_DECREF(slots);
    return made;
fail:
    Py_DECREF(slots);
    Py_DECREF(made);
    return NULL;
}

static PyMethodDef functions[] = {
    {"texts", (PyCFunction)(void (*)(void))texts, METH_FASTCALL,
     "texts(payload, slots, starts): the text at each (offset, length) slot pair; None where the offset is negative."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_methods = functions,
    .m_name = "vcsdk._native._objects",
    .m_doc = "Positional constructors for frozen, slotted dataclasses (see vcsdk._slots).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__objects(void)
{
    if (PyType_Ready(&MakerType) < 0)
        return NULL;
    empty_tuple = PyTuple_New(0);
    if (empty_tuple == NULL)
        return NULL;
    /* a probe class with a __new__ in its namespace (any callable: type() installs slot_tp_new) */
    PyObject *probe = PyObject_CallFunction((PyObject *)&PyType_Type, "s(){sO}", "probe", "__new__",
                                            (PyObject *)&PyBaseObject_Type);
    if (probe == NULL)
        return NULL;
    python_new = ((PyTypeObject *)probe)->tp_new;
    Py_DECREF(probe);
    if (python_new == PyBaseObject_Type.tp_new) {
        PyErr_SetString(PyExc_ImportError, "vcsdk._native._objects: no Python-level __new__ slot found");
        return NULL;
    }
    PyObject *made = PyModule_Create(&module);
    if (made == NULL)
        return NULL;
    Py_INCREF(&MakerType);
    if (PyModule_AddObject(made, "Maker", (PyObject *)&MakerType) < 0) {
        Py_DECREF(&MakerType);
        Py_DECREF(made);
        return NULL;
    }
    return made;
}
