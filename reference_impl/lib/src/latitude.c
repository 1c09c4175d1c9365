/*
 * latitude.c: the table of documented latitude (aipa/latitude.h).
 *
 * Sources, as the rows name them:
 *   seed            the 2018-08-02 AllocatePublicIpAddress page (its error table)
 *   doc 2024-12-20  the current AllocatePublicIpAddress page and its error table
 *   wire facts      the RPC wire facts: common parameters, signatures, common errors
 *   metadata        the official API metadata (error tables of the six actions)
 *   none            no document speaks of it
 */
#include "aipa/latitude.h"

#include <string.h>

#define A(st, c)                                                                                   \
    {                                                                                              \
        (st), (c), AIPA_LAT_FMT_ANY, NULL                                                          \
    }
#define AF(st, c, f)                                                                               \
    {                                                                                              \
        (st), (c), (f), NULL                                                                       \
    }
#define AM(st, c, m)                                                                               \
    {                                                                                              \
        (st), (c), AIPA_LAT_FMT_ANY, (m)                                                           \
    }
#define ALTS(...)                                                                                  \
    (const struct aipa_lat_answer[])                                                               \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#define NALTS(...)     (sizeof(ALTS(__VA_ARGS__)) / sizeof(struct aipa_lat_answer))
#define ROW_ALTS(...)  ALTS(__VA_ARGS__), NALTS(__VA_ARGS__)
#define ANY_DOCUMENTED A(0, AIPA_LAT_ANY)
/* What a signature check answers when the parameters it needs did not survive. */
#define AUTH_FALLOUT                                                                               \
    A(400, "IncompleteSignature"), A(400, "MissingSignature"), A(400, "MissingAccessKeyId"),       \
        A(400, "MissingParameter")

/* clang-format off */
static const struct aipa_latitude rows[] = {
    {AIPA_LAT_DUP_PARAM, "dup-param", AIPA_ED_ALL,
     "a parameter name appears twice (in the query, the form body, or both)",
     A(400, "InvalidParameter"), ROW_ALTS(AUTH_FALLOUT, ANY_DOCUMENTED), false,
     "none", "",
     "No document says whether a repeated name is an error, or which copy counts. "
     "Keeping the first or the last copy and answering the rest of the request is as valid as "
     "refusing it, so any documented answer is accepted."},
    {AIPA_LAT_WIRE_MALFORMED, "wire-malformed", AIPA_ED_ALL,
     "a query or form body that does not decode: a bad or truncated %-escape, a NUL byte, "
     "invalid UTF-8, an empty name",
     A(400, "InvalidParameter"), ROW_ALTS(AUTH_FALLOUT), false,
     "wire facts", "spec/wire.md §2.2 (percent-encoding), §4.2 (common errors)",
     "The signature rules define the encoding a client must send, not what a server says to bytes "
     "that break it. A server that drops the broken pair fails the signature or a required "
     "parameter instead."},
    {AIPA_LAT_WIRE_LIMIT, "wire-limit", AIPA_ED_ALL,
     "a parameter name, value or count beyond the reference's limits",
     A(400, "InvalidParameter"), ROW_ALTS(ANY_DOCUMENTED, A(413, NULL), A(414, NULL)), false,
     "none", "",
     "No document sets a limit on a parameter's length or on their number; a server with larger "
     "limits answers the request as it would any other."},
    {AIPA_LAT_URL_TOO_LONG, "url-too-long", AIPA_ED_ALL,
     "a request target longer than the reference's URL limit",
     A(414, "InvalidParameter"), ROW_ALTS(A(414, NULL), A(413, NULL), A(431, NULL),
                                          A(400, "InvalidParameter"), ANY_DOCUMENTED), false,
     "none", "",
     "No document sets a URL limit. A gateway may refuse with a bare 414 (or 413, 431) before "
     "any API body is written; a server with a larger limit answers the request itself."},
    {AIPA_LAT_HEADERS_TOO_LARGE, "headers-too-large", AIPA_ED_ALL,
     "more header bytes or headers than the reference's limit",
     A(431, "InvalidParameter"), ROW_ALTS(A(431, NULL), A(400, NULL), A(413, NULL), ANY_DOCUMENTED),
     false, "none", "",
     "No document sets a header limit; the HTTP layer may refuse without an API body, or the "
     "request may be answered as usual."},
    {AIPA_LAT_BODY_TOO_LARGE, "body-too-large", AIPA_ED_ALL,
     "a body longer than the reference's limit",
     A(413, "InvalidParameter"), ROW_ALTS(A(413, NULL), A(400, "InvalidParameter"), ANY_DOCUMENTED),
     false, "none", "",
     "No document sets a body limit; the HTTP layer may refuse without an API body, or the "
     "request may be answered as usual."},
    {AIPA_LAT_HTTP_METHOD, "http-method", AIPA_ED_ALL,
     "an HTTP method other than GET and POST",
     A(403, "UnsupportedHTTPMethod"), ROW_ALTS(A(400, "UnsupportedHTTPMethod"), A(405, NULL),
                                               A(405, "UnsupportedHTTPMethod")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "The common table lists UnsupportedHTTPMethod without fixing its status across products; "
     "an HTTP layer may answer 405 with no API body."},
    {AIPA_LAT_FORMAT_UNKNOWN, "format-unknown", AIPA_ED_ALL,
     "Format with a value other than XML or JSON (any case)",
     A(400, "InvalidParameter.Format"), ROW_ALTS(A(400, "InvalidParameter"), ANY_DOCUMENTED), false,
     "wire facts", "spec/wire.md §2.1 (common parameters), §4.2 (InvalidParameter.Format)",
     "The common table has InvalidParameter.Format, but nothing says that an unknown Format "
     "must be refused rather than ignored."},
    {AIPA_LAT_FORMAT_EMPTY, "format-empty", AIPA_ED_ALL,
     "Format present with an empty value",
     A(400, "InvalidParameter.Format"), ROW_ALTS(A(400, "InvalidParameter"), ANY_DOCUMENTED), false,
     "wire facts", "spec/wire.md §2.1 (common parameters)",
     "Format is optional (XML by default). Whether an empty value counts as absent is not said: "
     "a server may answer as if it were absent, in either format."},
    {AIPA_LAT_V3_NO_ACCEPT, "v3-no-accept-format", AIPA_ED_ALL,
     "a V3-signed request with neither Accept nor Format",
     AF(0, AIPA_LAT_ANY, AIPA_LAT_FMT_JSON), ROW_ALTS(AF(0, AIPA_LAT_ANY, AIPA_LAT_FMT_XML)), false,
     "wire facts", "spec/wire.md §2.3 (signature V3), §3.1 (openapi-core)",
     "The V3 SDKs always send Accept or read JSON; the format of an answer to a V3 request "
     "without either is not written anywhere. The reference answers JSON."},
    {AIPA_LAT_ACTION_EMPTY, "action-empty", AIPA_ED_ALL,
     "Action absent or empty",
     A(400, "MissingParameter"),
     ROW_ALTS(A(400, "MissingAction"), A(404, "InvalidAction.NotFound"),
              A(400, "InvalidParameter"), A(404, "InvalidApi.NotFound")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "Action is a required common parameter; the common table has both MissingParameter and "
     "Missing{Name}, and a gateway that routes on Action may answer that the API is not found."},
    {AIPA_LAT_ACTION_UNKNOWN, "action-unknown", AIPA_ED_ALL,
     "an Action the service does not have (names are case-sensitive)",
     A(404, "InvalidAction.NotFound"),
     ROW_ALTS(A(404, "InvalidApi.NotFound"), A(403, "InvalidAction"),
              A(400, "InvalidAction.NotFound")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "InvalidAction.NotFound is the common table's answer; other Alibaba gateways answer "
     "InvalidApi.NotFound or InvalidAction."},
    {AIPA_LAT_VERSION_MISSING, "version-missing", AIPA_ED_ALL,
     "Version absent or empty",
     A(400, "MissingParameter"),
     ROW_ALTS(A(400, "MissingVersion"), A(400, "InvalidVersion"), A(400, "InvalidParameter")),
     false, "wire facts", "spec/wire.md §2.1 (common parameters), §4.2 (common errors)",
     "Version is required; the common table has MissingParameter, Missing{Name} and "
     "InvalidVersion, and does not say which a missing one earns."},
    {AIPA_LAT_VERSION_WRONG, "version-wrong", AIPA_ED_ALL,
     "a Version other than 2014-05-26",
     A(400, "InvalidVersion"),
     ROW_ALTS(A(403, "InvalidVersion"), A(404, "InvalidVersion"), A(400, "InvalidParameter"),
              A(404, "InvalidAction.NotFound")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "The common table names InvalidVersion; its status differs between products, and a "
     "gateway that routes on (Action, Version) may not find the API at all."},
    {AIPA_LAT_CHECK_ORDER, "check-order", AIPA_ED_ALL,
     "a request with more than one fault among Format, Action, Version, signature, timestamp, "
     "nonce and the action's parameters",
     A(0, AIPA_LAT_ANY), NULL, 0, true,
     "doc 2024-12-20", "error table; spec/wire.md §5.3 (suggested order, an inference)",
     "No document orders these checks. The reference answers the first fault in its own order "
     "(docs/serve.md); the answer to any other fault the request has is accepted."},
    {AIPA_LAT_NONCE_AFTER_REJECT, "nonce-after-reject", AIPA_ED_ALL,
     "a SignatureNonce that an earlier request carried with a valid signature, when that request "
     "was refused by a check the reference makes before the signature",
     A(0, AIPA_LAT_ANY), NULL, 0, true,
     "wire facts", "spec/wire.md §2.2 (SignatureNonce), §4.2 (SignatureNonceUsed)",
     "A nonce may be used once; whether a request refused for its Format, Action or Version used "
     "it up depends on the order of checks, which no document gives. The reference does not "
     "count it; SignatureNonceUsed is accepted too."},
    {AIPA_LAT_MISSING_PARAM_CODE, "missing-param-code", AIPA_ED_ALL,
     "a required parameter other than InstanceId is absent or empty",
     A(400, "MissingParameter"), ROW_ALTS(A(400, AIPA_LAT_MISSING), A(400, "InvalidParameter")),
     false, "wire facts", "spec/wire.md §4.2 (common errors)",
     "The common table has both MissingParameter (\"The input parameter ... is not supplied\") "
     "and Missing{Name} (\"{Name} is mandatory for this action\")."},
    {AIPA_LAT_MISSING_INSTANCE_ID, "missing-instanceid-code", AIPA_ED_ALL,
     "InstanceId absent or empty",
     A(400, "MissingParameter"), ROW_ALTS(A(400, "MissingInstanceId"), A(400, AIPA_LAT_MISSING)),
     false, "wire facts", "spec/wire.md §4.2 (common errors); seed, request parameters",
     "InstanceId is required, and neither edition's table has a row for its absence; the common "
     "table allows MissingParameter and MissingInstanceId alike."},
    {AIPA_LAT_KEY_UNKNOWN, "key-unknown-status", AIPA_ED_ALL,
     "an AccessKeyId the service does not know",
     A(404, "InvalidAccessKeyId.NotFound"), ROW_ALTS(A(400, "InvalidAccessKeyId.NotFound")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "The common table gives InvalidAccessKeyId.NotFound at 404; gateways are seen answering it "
     "at 400."},
    {AIPA_LAT_KEY_INACTIVE, "key-inactive-code", AIPA_ED_ALL,
     "a disabled AccessKeyId",
     A(400, "InvalidAccessKeyId.Inactive"), ROW_ALTS(A(403, "Forbidden.AccessKeyDisabled")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "InvalidAccessKeyId.Inactive is the common table's answer; newer gateways answer "
     "Forbidden.AccessKeyDisabled."},
    {AIPA_LAT_TIMESTAMP_FORMAT, "timestamp-format-code", AIPA_ED_ALL,
     "a Timestamp (x-acs-date) that is not ISO 8601 UTC",
     A(400, "InvalidTimeStamp.Format"), ROW_ALTS(A(400, "IllegalTimestamp")), false,
     "wire facts", "spec/wire.md §4.2 (common errors)",
     "The common table has both InvalidTimeStamp.Format and IllegalTimestamp."},
    {AIPA_LAT_SIGNATURE_MISSING, "signature-missing-code", AIPA_ED_ALL,
     "no Signature (V1) or a malformed Authorization header (V3)",
     A(400, "IncompleteSignature"),
     ROW_ALTS(A(400, "MissingSignature"), A(400, "MissingParameter"),
              A(400, "MissingAccessKeyId"), A(400, "SignatureDoesNotMatch"),
              A(400, "InvalidTimeStamp.Format")), false,
     "wire facts", "spec/wire.md §2.2, §2.3 (signatures), §4.2 (common errors)",
     "The common table has IncompleteSignature and Missing{Name}; which one an unsigned or "
     "half-signed request earns is not said."},
    {AIPA_LAT_SIGNATURE_METHOD, "signature-method-code", AIPA_ED_ALL,
     "a SignatureMethod or SignatureVersion the service does not support, or none",
     A(400, "InvalidSignatureMethod"),
     ROW_ALTS(A(400, "InvalidParameter"), A(400, "InvalidSignatureVersion"),
              A(400, "IncompleteSignature"), A(400, AIPA_LAT_MISSING)), false,
     "wire facts", "spec/wire.md §2.1 (common parameters), §4.2 (common errors)",
     "InvalidSignatureMethod is in the common table; the SignatureVersion and missing cases have "
     "no row of their own."},
    {AIPA_LAT_OWNER_ID, "owner-id-code", AIPA_ED_ALL,
     "an OwnerId (or ResourceOwnerId) that is not a number",
     A(400, "InvalidOwnerId"), ROW_ALTS(A(400, "InvalidParameter"), ANY_DOCUMENTED), false,
     "wire facts", "spec/wire.md §1.1 (hidden Owner parameters), §4.2",
     "The Owner parameters are hidden; the current metadata no longer declares them, so a "
     "server may ignore them."},
    {AIPA_LAT_OWNER_BOTH, "owner-both-code", AIPA_ED_ALL,
     "OwnerId and OwnerAccount together",
     A(400, "InvalidOwner"), ROW_ALTS(A(400, "InvalidOwnerId"), ANY_DOCUMENTED), false,
     "wire facts", "spec/wire.md §1.1 (hidden Owner parameters), §4.2",
     "The common table's InvalidOwner covers the pair; the parameters themselves are hidden and "
     "may be ignored."},
    {AIPA_LAT_INSTANCE_ID_MALFORMED, "instanceid-malformed", AIPA_ED_ALL,
     "an InstanceId that cannot name an instance (too long, or characters an ID never has)",
     A(400, "InvalidInstanceId.Malformed"),
     ROW_ALTS(A(404, "InvalidInstanceId.NotFound"), A(400, "InvalidParameter"), A(413, NULL),
              A(414, NULL)), false,
     "doc 2024-12-20", "error table (other actions' InvalidInstanceId.Malformed)",
     "AllocatePublicIpAddress's tables have only InvalidInstanceId.NotFound; Malformed comes from "
     "other actions' tables, and a server may just not find the instance."},
    {AIPA_LAT_RELEASE_NO_ADDRESS, "release-no-address", AIPA_ED_ALL,
     "ReleasePublicIpAddress without PublicIpAddress",
     A(400, "MissingParameter"),
     ROW_ALTS(A(400, "MissingPublicIpAddress"), A(400, "InvalidParameter"),
              A(400, "InvalidIpAddress.NotFound"), A(404, "InvalidIpAddress.NotFound"),
              A(403, "InvalidIpAddress.NeedInstanceId"), A(200, NULL)), false,
     "metadata", "ReleasePublicIpAddress",
     "The metadata marks PublicIpAddress required and InstanceId optional, yet documents "
     "InvalidIpAddress.NeedInstanceId; nothing says what a call without the address does, and "
     "releasing the instance's one address is a reading too."},
    {AIPA_LAT_RELEASE_BAD_ADDRESS, "release-bad-address", AIPA_ED_ALL,
     "ReleasePublicIpAddress naming an address the instance does not hold (or not an address)",
     A(400, "InvalidIpAddress.NotFound"),
     ROW_ALTS(A(404, "InvalidIpAddress.NotFound"), A(400, "InvalidIpAddress.Malformed"),
              A(400, "InvalidParameter")), false,
     "metadata", "ReleasePublicIpAddress; doc 2024-12-20 error table",
     "The metadata gives InvalidIpAddress.NotFound at 400 for ReleasePublicIpAddress (the "
     "reference's answer), the Allocate table the same Code at 404; a value that is not an "
     "address may as well be called malformed."},
    {AIPA_LAT_DESCRIBE_BAD_IDS, "describe-bad-instanceids", AIPA_ED_ALL,
     "DescribeInstances with an InstanceIds that is not a JSON array of strings (or too long)",
     A(400, "InvalidParameter"),
     ROW_ALTS(A(400, "InvalidInstanceIds.Malformed"), A(400, "InvalidInstanceIds.ValueNotSupported"),
              A(400, "InvalidParameter.Format"), A(400, "InvalidInstanceId.Malformed"),
              A(200, NULL)), false,
     "metadata", "DescribeInstances",
     "The metadata's DescribeInstances table has no row for a malformed InstanceIds; a server "
     "may also ignore a value it cannot read and list every instance."},
    {AIPA_LAT_DESCRIBE_PAGING, "describe-bad-paging", AIPA_ED_ALL,
     "DescribeInstances with a PageNumber or PageSize out of range or not a number",
     A(400, "InvalidParameter"),
     ROW_ALTS(A(400, "InvalidPageNumber.Malformed"), A(400, "InvalidPageSize.Malformed"),
              A(400, "InvalidParameter.Format"), A(200, NULL)), false,
     "metadata", "DescribeInstances",
     "The metadata gives the ranges (PageSize 1 to 100) but no error for leaving them; a "
     "server may clamp and answer."},
    {AIPA_LAT_PRECEDENCE, "precedence", AIPA_ED_ALL,
     "an instance with more than one reason to refuse the allocation (lock, arrears, status, "
     "network, bandwidth, already allocated, empty pool)",
     A(0, AIPA_LAT_ANY), NULL, 0, true,
     "doc 2024-12-20", "error table; spec/wire.md §5.3 (suggested order, an inference)",
     "Neither edition orders the preconditions. The reference follows docs/internals/model.md; "
     "the answer to any other precondition the instance fails is accepted."},
    {AIPA_LAT_ALREADY_ALLOCATED, "already-allocated-2024", AIPA_ED_2024,
     "allocating for an instance that already has a public address",
     A(200, NULL), ROW_ALTS(A(403, "AllocatedAlready"), A(400, "OperationDenied")), false,
     "doc 2024-12-20", "description; error table",
     "The 2024-12-20 text returns the existing address with 200, while the same page's table "
     "still lists AllocatedAlready (403, two messages) and OperationDenied \"The specified "
     "instance already has a public IP.\"."},
    {AIPA_LAT_CLASSIC_EIP_2018, "classic-eip-2018", AIPA_ED_2018,
     "a classic-network instance that has an EIP",
     A(200, NULL), ROW_ALTS(A(400, "OperationDenied")), false,
     "seed", "error table (OperationDenied)",
     "The seed denies only VPC instances with an EIP; whether a classic one with an EIP may "
     "get an address is not said."},
    {AIPA_LAT_CLASSIC_EIP_2024, "classic-eip-2024", AIPA_ED_2024,
     "a classic-network instance that has an EIP",
     A(400, "OperationDenied"), ROW_ALTS(A(200, NULL)), false,
     "doc 2024-12-20", "error table (OperationDenied, \"already has a public IP\")",
     "The 2024 table adds \"The specified instance already has a public IP.\"; an EIP may or may "
     "not count as one."},
    {AIPA_LAT_ZERO_BANDWIDTH_2018, "zero-bandwidth-2018", AIPA_ED_2018,
     "an instance whose InternetMaxBandwidthOut is 0",
     A(200, NULL), ROW_ALTS(A(400, "AllocateIpInvalidInstanceBandwidth")), false,
     "seed", "error table",
     "The seed has no bandwidth rule; the 2024 table's AllocateIpInvalidInstanceBandwidth may "
     "describe an older behaviour too."},
    {AIPA_LAT_WHITELIST_CODE, "whitelist-code", AIPA_ED_2024,
     "IpAddress from a caller not on the whitelist",
     A(400, "InvalidIpAddress.Malformed"),
     ROW_ALTS(A(400, "OperationDenied"), A(403, "InvalidIpAddress.NotPublic"),
              A(404, "InvalidIpAddress.NotFound"), A(403, "Forbidden.RAM"), A(403, "IpInUse")),
     false, "doc 2024-12-20", "request parameters (IpAddress)",
     "IpAddress is for whitelisted users only; the answer to anyone else is not named."},
    {AIPA_LAT_IP_NOT_IN_POOL, "ip-not-in-pool", AIPA_ED_2024,
     "a public IpAddress outside the service's pool",
     A(404, "InvalidIpAddress.NotFound"),
     ROW_ALTS(A(400, "InsufficientPublicIp"), A(403, "InvalidIpAddress.NotPublic"),
              A(403, "IpInUse")), false,
     "doc 2024-12-20", "error table",
     "The table's InvalidIpAddress.NotFound speaks of a VLAN (\"not in the specified vlan\"); an "
     "address the service does not own has no row of its own."},
    {AIPA_LAT_IP_NOT_PUBLIC, "ip-not-public", AIPA_ED_2024,
     "an IpAddress in a private, loopback or other non-public range",
     A(403, "InvalidIpAddress.NotPublic"),
     ROW_ALTS(A(404, "InvalidIpAddress.NotFound"), A(400, "InvalidIpAddress.Malformed")), false,
     "doc 2024-12-20", "error table",
     "InvalidIpAddress.NotPublic fits, but a server that only checks its pool answers NotFound."},
    {AIPA_LAT_INSUFFICIENT_MESSAGE, "insufficient-ip-message", AIPA_ED_ALL,
     "the pool is empty",
     AM(400, "InsufficientPublicIp", "Ip address not found."),
     ROW_ALTS(AM(400, "InsufficientPublicIp", "Ip address not found")), false,
     "seed", "error table; doc 2024-12-20 error table",
     "The seed's message has no period, the 2024 table's has one; both are the same error."},
    {AIPA_LAT_ALLOCATED_MESSAGE, "allocated-already-message", AIPA_ED_ALL,
     "AllocatedAlready, in either edition",
     AM(403, "AllocatedAlready", "There is an IpAddress allocated already for the specified instance."),
     ROW_ALTS(AM(403, "AllocatedAlready", "An IpAddress has been assigned to the specified instance.")),
     false, "doc 2024-12-20", "error table (two AllocatedAlready rows)",
     "The 2024 table lists AllocatedAlready twice with two messages."},
    {AIPA_LAT_TRANSIENT_2018, "transient-2018", AIPA_ED_2018,
     "a transient failure injected with AipaNextAllocateError, under the 2018-08-02 edition",
     A(500, "InternalError"), NULL, 0, true,
     "seed", "error table (\"for more error codes, see API Error Center\")",
     "The seed's table is not closed, so the injected Code is as valid in 2018 as the common "
     "InternalError; the injected Code is accepted with its status."},
};
/* clang-format on */

_Static_assert(sizeof(rows) / sizeof(rows[0]) == AIPA_LAT_COUNT_, "one row per latitude id");
_Static_assert(AIPA_LAT_COUNT_ <= 64, "a set is a 64-bit mask");

const struct aipa_latitude *aipa_lat_row(enum aipa_lat id)
{
    if ((unsigned)id >= AIPA_LAT_COUNT_) {
        return NULL;
    }
    return &rows[id];
}

size_t aipa_lat_count(void)
{
    return AIPA_LAT_COUNT_;
}

const struct aipa_latitude *aipa_lat_find(const char *name, size_t n)
{
    for (size_t i = 0; i < AIPA_LAT_COUNT_; i++) {
        if (strlen(rows[i].name) == n && memcmp(rows[i].name, name, n) == 0) {
            return &rows[i];
        }
    }
    return NULL;
}

void aipa_lat_set_clear(struct aipa_lat_set *s)
{
    memset(s, 0, sizeof(*s));
}

void aipa_lat_set_add(struct aipa_lat_set *s, enum aipa_lat id)
{
    if (s != NULL && (unsigned)id < AIPA_LAT_COUNT_) {
        s->rows |= AIPA_LAT_BIT(id);
    }
}

bool aipa_lat_set_has(const struct aipa_lat_set *s, enum aipa_lat id)
{
    return s != NULL && (unsigned)id < AIPA_LAT_COUNT_ && (s->rows & AIPA_LAT_BIT(id)) != 0;
}

void aipa_lat_set_also_answer(struct aipa_lat_set *s, enum aipa_lat row, unsigned status,
                              const char *code)
{
    if (s == NULL || code == NULL || strlen(code) >= sizeof(s->also[0].code)) {
        return;
    }
    aipa_lat_set_add(s, row);
    for (size_t i = 0; i < s->also_count; i++) {
        if (s->also[i].status == status && strcmp(s->also[i].code, code) == 0) {
            return;
        }
    }
    if (s->also_count < AIPA_LAT_MAX_ALSO) {
        s->also[s->also_count].status = status;
        memcpy(s->also[s->also_count].code, code, strlen(code) + 1);
        s->also_count++;
    }
}

void aipa_lat_set_also(struct aipa_lat_set *s, enum aipa_lat row, enum aipa_code code)
{
    const struct aipa_api_error *e = aipa_code_info(code);

    if (e != NULL) {
        aipa_lat_set_also_answer(s, row, (unsigned)e->http_status, e->code);
    }
}

static bool is_name(const char *s)
{
    if (s[0] < 'A' || s[0] > 'Z') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))) {
            return false;
        }
    }
    return true;
}

bool aipa_lat_documented(unsigned status, const char *code)
{
    enum aipa_code ids[16];
    size_t n;

    if (status >= 200 && status < 300) {
        return true;
    }
    if (code == NULL || code[0] == '\0' || status < 400 || status > 599) {
        return false;
    }
    n = aipa_code_lookup_all(code, strlen(code), ids, AIPA_ARRAY_LEN(ids));
    for (size_t i = 0; i < n && i < AIPA_ARRAY_LEN(ids); i++) {
        const struct aipa_api_error *e = aipa_code_info(ids[i]);

        if (e != NULL && (unsigned)e->http_status == status) {
            return true;
        }
    }
    /* the templated rows: Missing{Name} and Invalid{Name}, 400 */
    return status == 400 && ((strncmp(code, "Missing", 7) == 0 && is_name(code + 7)) ||
                             (strncmp(code, "Invalid", 7) == 0 && code[7] != '\0'));
}

static bool answer_matches(const struct aipa_lat_answer *a, unsigned status, const char *code,
                           unsigned format)
{
    if (a->format != AIPA_LAT_FMT_ANY && format != AIPA_LAT_FMT_ANY && a->format != format) {
        return false;
    }
    if (a->code != NULL && strcmp(a->code, AIPA_LAT_ANY) == 0) {
        return (a->status == 0 || a->status == status) && aipa_lat_documented(status, code);
    }
    if (a->status != 0 && a->status != status) {
        return false;
    }
    if (a->code == NULL) {
        return code[0] == '\0';
    }
    if (strcmp(a->code, AIPA_LAT_MISSING) == 0) {
        return strncmp(code, "Missing", 7) == 0 && is_name(code + 7);
    }
    return strcmp(a->code, code) == 0;
}

static bool also_matches(const struct aipa_lat_set *s, unsigned status, const char *code)
{
    for (size_t i = 0; i < s->also_count; i++) {
        const struct aipa_lat_also *a = &s->also[i];

        if (a->status != status) {
            continue;
        }
        if (strcmp(a->code, code) == 0) {
            return true;
        }
        /* Missing%s, or MissingParameter, also earns Missing{Name} */
        if ((strcmp(a->code, "Missing%s") == 0 || strcmp(a->code, "MissingParameter") == 0) &&
            strncmp(code, "Missing", 7) == 0 && is_name(code + 7)) {
            return true;
        }
    }
    return false;
}

const struct aipa_latitude *aipa_lat_accepts(const struct aipa_lat_set *s, unsigned edition,
                                             unsigned status, const char *code, unsigned format)
{
    if (s == NULL) {
        return NULL;
    }
    if (code == NULL) {
        code = "";
    }
    for (size_t i = 0; i < AIPA_LAT_COUNT_; i++) {
        const struct aipa_latitude *r = &rows[i];

        if ((s->rows & AIPA_LAT_BIT(i)) == 0 || (edition != 0 && (r->editions & edition) == 0)) {
            continue;
        }
        for (size_t k = 0; k < r->alt_count; k++) {
            if (answer_matches(&r->alts[k], status, code, format)) {
                return r;
            }
        }
        if (r->per_request && also_matches(s, status, code)) {
            return r;
        }
    }
    return NULL;
}

const struct aipa_latitude *aipa_lat_accepts_format(const struct aipa_lat_set *s, unsigned edition,
                                                    unsigned format)
{
    /* rows where the input that picks the format is itself what the documents leave open */
    static const enum aipa_lat any_format[] = {AIPA_LAT_FORMAT_EMPTY, AIPA_LAT_FORMAT_UNKNOWN,
                                               AIPA_LAT_DUP_PARAM, AIPA_LAT_WIRE_MALFORMED};

    for (size_t i = 0; s != NULL && i < AIPA_LAT_COUNT_; i++) {
        const struct aipa_latitude *r = &rows[i];

        if ((s->rows & AIPA_LAT_BIT(i)) == 0 || (edition != 0 && (r->editions & edition) == 0)) {
            continue;
        }
        for (size_t k = 0; k < AIPA_ARRAY_LEN(any_format); k++) {
            if (any_format[k] == r->id) {
                return r;
            }
        }
        for (size_t k = 0; k < r->alt_count; k++) {
            if (r->alts[k].format == format) {
                return r;
            }
        }
    }
    return NULL;
}

/* A row about the Message only: no (status, Code) depends on it. */
static bool message_only(const struct aipa_latitude *r)
{
    for (size_t k = 0; k < r->alt_count; k++) {
        if (r->alts[k].message == NULL) {
            return false;
        }
    }
    return r->alt_count > 0;
}

const struct aipa_latitude *aipa_lat_first(const struct aipa_lat_set *s, unsigned edition)
{
    for (size_t i = 0; s != NULL && i < AIPA_LAT_COUNT_; i++) {
        if ((s->rows & AIPA_LAT_BIT(i)) != 0 && !message_only(&rows[i]) &&
            (edition == 0 || (rows[i].editions & edition) != 0)) {
            return &rows[i];
        }
    }
    return NULL;
}

aipa_err aipa_lat_names(const struct aipa_lat_set *s, struct aipa_buf *out)
{
    bool first = true;

    for (size_t i = 0; s != NULL && i < AIPA_LAT_COUNT_; i++) {
        if ((s->rows & AIPA_LAT_BIT(i)) != 0) {
            AIPA_TRY(aipa_buf_printf(out, "%s%s", first ? "" : ",", rows[i].name));
            first = false;
        }
    }
    if (out->ptr == NULL) {
        AIPA_TRY(aipa_buf_puts(out, ""));
    }
    return AIPA_OK;
}

bool aipa_lat_transient(unsigned status, const char *code)
{
    static const struct {
        unsigned status;
        const char *code;
    } transient[] = {
        {500, "InternalError"},
        {503, "ServiceUnavailable"},
        {400, "Throttling"},
        {400, "Throttling.User"},
        {400, "InvalidOperation.AllocateFailed"},
        {403, "AllocateIp.Fail"},
        {409, "OperationConflict"},
    };

    if (code == NULL) {
        return false;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(transient); i++) {
        if (transient[i].status == status && strcmp(transient[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- Markdown ---- */

static const char *edition_text(unsigned ed)
{
    switch (ed) {
    case AIPA_ED_2018:
        return "2018-08-02";
    case AIPA_ED_2024:
        return "2024-12-20";
    default:
        return "both";
    }
}

/* A table cell: '|' escaped, everything else as is (the table's text is ASCII). */
static aipa_err cell(struct aipa_buf *out, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '|') {
            AIPA_TRY(aipa_buf_puts(out, "\\|"));
        } else {
            AIPA_TRY(aipa_buf_putc(out, *s));
        }
    }
    return AIPA_OK;
}

static aipa_err answer_md(struct aipa_buf *out, const struct aipa_lat_answer *a)
{
    bool any = a->code != NULL && strcmp(a->code, AIPA_LAT_ANY) == 0;

    if (any && a->status == 0) {
        AIPA_TRY(aipa_buf_puts(out, "any documented answer"));
    } else if (any) {
        AIPA_TRY(aipa_buf_printf(out, "any documented %u", a->status));
    } else if (a->code == NULL) {
        AIPA_TRY(aipa_buf_printf(out, "%u%s", a->status, a->status == 200 ? "" : " (no API body)"));
    } else if (strcmp(a->code, AIPA_LAT_MISSING) == 0) {
        AIPA_TRY(aipa_buf_printf(out, "%u `Missing{Name}`", a->status));
    } else {
        AIPA_TRY(aipa_buf_printf(out, "%u `%s`", a->status, a->code));
    }
    if (a->format != AIPA_LAT_FMT_ANY) {
        AIPA_TRY(aipa_buf_puts(out, a->format == AIPA_LAT_FMT_XML ? " in XML" : " in JSON"));
    }
    if (a->message != NULL) {
        AIPA_TRY(aipa_buf_puts(out, " \""));
        AIPA_TRY(cell(out, a->message));
        AIPA_TRY(aipa_buf_putc(out, '"'));
    }
    return AIPA_OK;
}

static aipa_err row_md(struct aipa_buf *out, const struct aipa_latitude *r)
{
    AIPA_TRY(aipa_buf_printf(out, "| `%s` | %s | ", r->name, edition_text(r->editions)));
    AIPA_TRY(cell(out, r->when));
    AIPA_TRY(aipa_buf_puts(out, " | "));
    if (r->per_request && r->strict.code != NULL && strcmp(r->strict.code, AIPA_LAT_ANY) == 0) {
        AIPA_TRY(aipa_buf_puts(out, "the reference's first fault"));
    } else {
        AIPA_TRY(answer_md(out, &r->strict));
    }
    AIPA_TRY(aipa_buf_puts(out, " | "));
    for (size_t k = 0; k < r->alt_count; k++) {
        AIPA_TRY(aipa_buf_puts(out, k > 0 ? "; " : ""));
        AIPA_TRY(answer_md(out, &r->alts[k]));
    }
    if (r->per_request) {
        AIPA_TRY(aipa_buf_puts(out, r->alt_count > 0 ? "; " : ""));
        AIPA_TRY(aipa_buf_puts(out, r->id == AIPA_LAT_TRANSIENT_2018
                                        ? "the injected Code with its status"
                                        : "the answer to any other fault the request has"));
    }
    AIPA_TRY(aipa_buf_puts(out, " | "));
    AIPA_TRY(cell(out, r->source));
    if (r->where[0] != '\0') {
        AIPA_TRY(aipa_buf_puts(out, ", "));
        AIPA_TRY(cell(out, r->where));
    }
    AIPA_TRY(aipa_buf_puts(out, ": "));
    AIPA_TRY(cell(out, r->text));
    return aipa_buf_puts(out, " |\n");
}

aipa_err aipa_lat_markdown(struct aipa_buf *out)
{
    AIPA_TRY(aipa_buf_puts(
        out,
        "<!-- Generated by `aipa latitude --markdown` from reference_impl/lib/src/latitude.c; "
        "do not edit. -->\n"
        "# Documented latitude\n\n"
        "Every point where the documents allow more than one answer is one row of this table.\n"
        "The reference answers the strict answer (its default choice) and reports, with each\n"
        "answer, the rows that applied to the request. `aipa conform` grades an answer among a\n"
        "row's alternatives `pass-nonstrict` and names the row; `aipa fuzz` accepts it in the\n"
        "differential oracle. With `--strict`, both accept the strict answer only. A failure or\n"
        "finding outside a row's set names the row. `aipa serve --latitude alt` takes an\n"
        "alternative on every row it can (docs/serve.md).\n\n"
        "An answer is `status Code`; \"no API body\" is a refusal by the HTTP layer, \"any\n"
        "documented answer\" is a success or any (status, Code) of the error tables.\n"
        "Sources: seed (the 2018-08-02 page), doc 2024-12-20 (the current page), wire facts\n"
        "(common parameters, signatures, common errors), metadata (the official API metadata),\n"
        "none (no document speaks of it).\n\n"
        "| id | editions | when | strict | also accepted | source |\n"
        "|---|---|---|---|---|---|\n"));
    for (size_t i = 0; i < AIPA_LAT_COUNT_; i++) {
        AIPA_TRY(row_md(out, &rows[i]));
    }
    return AIPA_OK;
}
