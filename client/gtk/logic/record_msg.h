/* record_msg.h - the graphical client's bridge between the records libdangan
 * hands it (protobuf: Dangan__V1__Customer, ...Contact, ...) and dg_record
 * (common/entity.h), the form the field tables, dg_record_validate and the
 * conflict merge work on. Fields are matched by name through the kind's
 * field table and the message descriptor, as the server does, so a field
 * added to both needs no code here.
 *
 * Owns nothing: what it builds lives in the caller's dg_arena. Pure; any
 * thread.
 */
#ifndef DG_RECORD_MSG_H
#define DG_RECORD_MSG_H

#include <stdint.h>

#include "alloc.h"
#include "dangan.pb-c.h"
#include "entity.h"

/* The index that stands for a customer's tags in a field set: one past the
 * kind's table (tags are a whole-list field of customers only). */
#define DG_RECMSG_TAGS(e) ((int)(e)->n_fields)

/* The message descriptor of a kind's body (dangan__v1__customer__descriptor
 * for DG_KIND_CUSTOMER), or NULL for an unknown kind. */
const ProtobufCMessageDescriptor *dg_recmsg_descriptor(enum dg_kind kind);

/* The body of a Record (the member of its oneof) and its kind into *kind;
 * NULL (and DG_KIND_NONE) when the Record holds none. Borrowed from r. */
const ProtobufCMessage *dg_recmsg_body(const Dangan__V1__Record *r, enum dg_kind *kind);

/* A dg_record from a kind's message (`body` must be of that kind's
 * descriptor): id, version, archived, times, every field of the table
 * (given bits all set), and for customers the tags. A user field holds the
 * UserRef's id; money its minor units and currency. Strings are copied into
 * `a`. DG_OK, DG_EINVAL (body is not of that kind) or DG_ENOMEM (over the
 * arena's budget). */
int dg_recmsg_to_record(dg_arena *a, enum dg_kind kind, const ProtobufCMessage *body,
                        dg_record **out);

/* An UpdateRequest that sets, on record r (its kind, id), the fields whose
 * bits are set in `fields` (bit i: field i of the table; bit
 * DG_RECMSG_TAGS: the tags), with expected_version = r->version and
 * update_mask naming exactly those fields, in table order. Everything is
 * allocated in `a` (strings borrowed from r, which must live as long): pack
 * it or hand it to dg_client_call, never free it with protobuf-c.
 * DG_OK; DG_EINVAL if `fields` is empty or names a field that cannot be
 * updated (immutable, server-set, beyond the table); DG_ENOMEM. */
int dg_recmsg_update(dg_arena *a, const dg_record *r, uint64_t fields,
                     Dangan__V1__UpdateRequest **out);

/* A Record for a CreateRequest: r's kind with the fields given in r
 * (r->given; immutable ones such as a record's customer included, the
 * server-set ones never). Allocated in `a` like dg_recmsg_update's.
 * DG_OK; DG_EINVAL (unknown kind); DG_ENOMEM. */
int dg_recmsg_create(dg_arena *a, const dg_record *r, Dangan__V1__Record **out);

#endif
