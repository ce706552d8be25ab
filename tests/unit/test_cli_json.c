/* test_cli_json.c - the CLI's protobuf → JSON conversion (client/cli/out.c),
 * which every --json output goes through: field names as in the .proto,
 * enums by their short lower-case name, and 64-bit values with a JSON type
 * that does not depend on the value (a cursor's random epoch is always a
 * string; seqs are numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static void test_a_cursor_epoch_is_a_string_whatever_its_value(void **state)
{
    static const uint64_t epochs[] = {0, 1, 9520544726523503860u, UINT64_MAX, INT64_MAX};
    static const char *const texts[] = {"0", "1", "9520544726523503860", "18446744073709551615",
                                        "9223372036854775807"};

    (void)state;
    for (size_t i = 0; i < sizeof epochs / sizeof epochs[0]; i++) {
        Dangan__V1__Cursor cur = DANGAN__V1__CURSOR__INIT;
        json_t *j;

        cur.epoch = epochs[i];
        cur.seq = 7;
        j = cli_pb_to_json(&cur.base);
        assert_true(json_is_string(json_object_get(j, "epoch")));
        assert_string_equal(json_string_value(json_object_get(j, "epoch")), texts[i]);
        assert_true(json_is_integer(json_object_get(j, "seq")));
        assert_int_equal(json_integer_value(json_object_get(j, "seq")), 7);
        json_decref(j);
    }
}

static void test_enums_are_short_lower_case_names(void **state)
{
    Dangan__V1__UserRef u = DANGAN__V1__USER_REF__INIT;
    json_t *j;

    (void)state;
    u.id = 3;
    u.username = "li.na";
    u.role = DANGAN__V1__ROLE__ROLE_SALES;
    j = cli_pb_to_json(&u.base);
    assert_string_equal(json_string_value(json_object_get(j, "role")), "sales");
    assert_string_equal(json_string_value(json_object_get(j, "username")), "li.na");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 3);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_cursor_epoch_is_a_string_whatever_its_value),
        cmocka_unit_test(test_enums_are_short_lower_case_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
