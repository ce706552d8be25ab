/* record_pb.h - converting between protobuf records and dg_record. Loop thread. */
#ifndef DG_RECORD_PB_H
#define DG_RECORD_PB_H

#include "conn.h"
#include "dangan.pb-c.h"
#include "entity.h"
#include "users.h"

/* A dg_record from a protobuf Record, in the request's arena. On create the
 * given fields are those with non-default values; on update those named in
 * `mask` (each checked to be a field of the kind, "tags" or "custom.NAME").
 * User references are resolved by id, name or "me". Problems are added to the
 * request's field violations under `prefix` ("record"); returns DG_OK,
 * DG_EINVAL or DG_ENOMEM. */
int dg_record_from_pb(dg_req *req, const Dangan__V1__Record *pr, const char *prefix,
                        const char *const *mask, size_t n_mask, bool is_create, dg_record **out);
/* A protobuf Record / the kind's message for a record, in the request's arena
 * (strings are borrowed from the record, which must live as long). */
Dangan__V1__Record *dg_record_to_pb(dg_req *req, const dg_record *r);
/* The same with only the record's kind, id, version and (customers) code:
 * a reference to it, where the whole record does not fit. */
Dangan__V1__Record *dg_record_ref_to_pb(dg_req *req, const dg_record *r);
ProtobufCMessage *dg_record_body_to_pb(dg_req *req, const dg_record *r);
/* A UserRef for a user id (NULL for 0). */
Dangan__V1__UserRef *dg_user_ref_pb(dg_req *req, int64_t id);
/* The Record oneof member name of a kind ("customer"). */
const char *dg_kind_field(enum dg_kind kind);

#endif
