/*
 * aipa/errors.h: every Alibaba error this project knows, in one table.
 *
 * Each row: enum id, Code (as on the wire), HTTP status, Message, the doc
 * editions it belongs to, and where it comes from. A Code that the docs give
 * with two messages has two rows (the first is the one the reference server
 * sends). A "%s" in a Message is filled by the caller (a parameter name, or
 * the server's StringToSign); aipa_code_format() does that.
 *
 * Sources: the last field lists every source that carries the row with
 * this status, Code and Message, character for character (docs/internals/
 * errors.md gives the table with the same list; spec/ in the repository
 * holds the facts):
 *   seed    spec/allocate-2018.md#errors (2018-08-02 edition)
 *   s5.3    spec/allocate-2024.md#errors (2024-12-20 edition)
 *   M1      spec/api-metadata.md#errors: the official API
 *           metadata for AllocatePublicIpAddress (api-docs.json, 2024-06)
 *   M1-release, M1-start, M1-stop, M1-reboot, M1-describe
 *           the same metadata's tables for ReleasePublicIpAddress, StartInstance,
 *           StopInstance, RebootInstance, DescribeInstances
 *           (spec/api-metadata.md#companions)
 *   s4.2    spec/wire.md §4.2, common (gateway) errors, both editions
 *   sts     the gateway's STS token errors (docs/internals/errors.md names
 *           where each comes from)
 *   real    a recorded answer in no table (spec/api-metadata.md#not-in-tables)
 */
#ifndef AIPA_ERRORS_H
#define AIPA_ERRORS_H

#include "aipa/common.h"

/* Doc editions, as a bit set. */
#define AIPA_ED_2018 1u /* 2018-08-02: the seed */
#define AIPA_ED_2024 2u /* 2024-12-20: the current doc */
#define AIPA_ED_ALL  3u

/* clang-format off */
#define AIPA_API_ERRORS(X)                                                                         \
    /* ---- AllocatePublicIpAddress, seed table (still in the current table) ---- */               \
    X(AIPA_C_INSUFFICIENT_PUBLIC_IP, "InsufficientPublicIp", 400,                                  \
      "Ip address not found", AIPA_ED_2018, "seed")                                                \
    X(AIPA_C_INSUFFICIENT_PUBLIC_IP_2024, "InsufficientPublicIp", 400,                             \
      "Ip address not found.", AIPA_ED_2024, "s5.3 M1")                                            \
    X(AIPA_C_OPERATION_DENIED_VPC_EIP, "OperationDenied", 400,                                     \
      "Specified operation is denied as your instance is in VPC.",                                 \
      AIPA_ED_ALL, "seed s5.3 M1 M1-release")                                                      \
    X(AIPA_C_ALLOCATED_ALREADY, "AllocatedAlready", 403,                                           \
      "There is an IpAddress allocated already for the specified instance.",                       \
      AIPA_ED_ALL, "seed s5.3 M1")                                                                 \
    X(AIPA_C_ALLOCATED_ALREADY_2, "AllocatedAlready", 403,                                         \
      "An IpAddress has been assigned to the specified instance.", AIPA_ED_2024, "s5.3")           \
    X(AIPA_C_INCORRECT_INSTANCE_STATUS, "IncorrectInstanceStatus", 403,                            \
      "The current status of the resource does not support this operation.",                       \
      AIPA_ED_ALL, "seed s5.3 M1 M1-release M1-start M1-stop M1-reboot")                           \
    X(AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, "InstanceExpiredOrInArrears", 403,                    \
      "The specified operation is denied as your prepay instance is expired (prepay mode) or in "  \
      "arrears (afterpay mode).", AIPA_ED_ALL, "seed s5.3 M1 M1-stop M1-reboot")                   \
    X(AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, "InstanceLockedForSecurity", 403,                       \
      "The specified operation is denied as your instance is locked for security reasons.",        \
      AIPA_ED_ALL, "seed s5.3 M1 M1-release M1-start M1-stop M1-reboot")                           \
    X(AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, "InvalidInstanceId.NotFound", 404,                     \
      "The specified InstanceId does not exist.",                                                  \
      AIPA_ED_ALL, "seed s5.3 M1 M1-release M1-start M1-stop M1-reboot")                           \
    /* ---- AllocatePublicIpAddress, current table only ---- */                                    \
    X(AIPA_C_INVALID_OPERATION_ALLOCATE_FAILED, "InvalidOperation.AllocateFailed", 400,            \
      "The current instance failed to allocate public IP, please try again later.", AIPA_ED_2024,  \
      "s5.3 M1")                                                                                   \
    X(AIPA_C_INVALID_IP_ADDRESS_MALFORMED, "InvalidIpAddress.Malformed", 400,                      \
      "The specified parameter \"IpAddress\" is not valid.", AIPA_ED_2024, "s5.3 M1")              \
    X(AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH, "AllocateIpInvalidInstanceBandwidth", 400,    \
      "OperationDenied The InternetMaxBandwidthOut of the specified instance cannot be less than " \
      "0.", AIPA_ED_2024, "s5.3 M1")                                                               \
    X(AIPA_C_OPERATION_DENIED_VLAN, "OperationDenied", 400,                                        \
      "The specified parameter \"VlanId\" is not valid or vlan has not enough IP address.",        \
      AIPA_ED_2024, "s5.3")                                                                        \
    X(AIPA_C_OPERATION_DENIED_HAS_PUBLIC_IP, "OperationDenied", 400,                               \
      "The specified instance already has a public IP.", AIPA_ED_2024, "s5.3")                     \
    X(AIPA_C_OPERATION_DENIED_CLOUDBOX, "OperationDenied.CloudboxNotSupport", 400,                 \
      "This operation is denied, because the specified ECS instance which is in the Cloudbox "     \
      "dose not support PublicIp or Eip.", AIPA_ED_2024, "s5.3 M1")                                \
    X(AIPA_C_OPERATION_DENIED_DEDICATED_REGION, "OperationDenied.DedicatedRegionNotSupported",     \
      400, "This operation is denied, because the specified ECS instance which is in the "         \
      "dedicated region dose not support PublicIp or Eip.", AIPA_ED_2024, "s5.3 M1")               \
    X(AIPA_C_IP_IN_USE, "IpInUse", 403, "The specified IP is already in use.", AIPA_ED_2024,       \
      "s5.3 M1")                                                                                   \
    X(AIPA_C_ALLOCATE_IP_FAIL, "AllocateIp.Fail", 403,                                             \
      "The specified instance fails to allocate ip, please try again.", AIPA_ED_2024, "s5.3 M1")   \
    X(AIPA_C_NAT_PUBLIC_IP_BINDING_FAILED, "NAT_PUBLIC_IP_BINDING_FAILED", 403,                    \
      "Binding nat public ip failed.", AIPA_ED_2024, "s5.3 M1")                                    \
    X(AIPA_C_NAT_PUBLIC_IP_ALLOCATE_FAILED, "NAT_PUBLIC_IP_ALLOCATE_FAILED", 403,                  \
      "Nat public ip binding failed.", AIPA_ED_2024, "s5.3 M1")                                    \
    X(AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, "InvalidIpAddress.NotPublic", 403,                     \
      "The specified IP is not public address.", AIPA_ED_2024, "s5.3 M1")                          \
    X(AIPA_C_INVALID_VLAN_ID_NOT_FOUND, "InvalidVlanId.NotFound", 404,                             \
      "The VlanId provided does not exist in our records.", AIPA_ED_2024, "s5.3 M1")               \
    X(AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND, "InvalidIpAddress.NotFound", 404,                       \
      "The specified IP is not in the specified vlan.", AIPA_ED_2024, "s5.3 M1")                   \
    X(AIPA_C_INTERNAL_ERROR_ACTION, "InternalError", 500,                                          \
      "The request processing has failed due to some unknown error.", AIPA_ED_2024, "s5.3 M1")     \
    /* ---- the companion actions' own rows (M1 and its Release/Start/Describe tables) ---- */     \
    X(AIPA_C_RELEASE_IP_NOT_FOUND, "InvalidIpAddress.NotFound", 400,                               \
      "The specified parameter \"IpAddress\" is not found in your records.", AIPA_ED_ALL,          \
      "M1-release")                                                                                \
    X(AIPA_C_INVALID_IP_ADDRESS_NEED_INSTANCE_ID, "InvalidIpAddress.NeedInstanceId", 403,          \
      "The specified IpAddress need to release with InstanceId.", AIPA_ED_ALL, "M1-release")       \
    X(AIPA_C_OPERATION_TIMES_OVER_LIMIT, "OperationTimesOverLimit", 403,                           \
      "The specified operation is denied as release public ip times over the limit.", AIPA_ED_ALL, \
      "M1-release")                                                                                \
    X(AIPA_C_FORBIDDEN_EXCEED_DURATION, "Forbidden.ExceedDuration", 403,                           \
      "Instance nat public ip can only be released in 6 hours after ecs created.", AIPA_ED_ALL,    \
      "M1-release")                                                                                \
    X(AIPA_C_DRY_RUN_OPERATION, "DryRunOperation", 400,                                            \
      "This is a dryrun request with successful result.", AIPA_ED_ALL, "M1-release")               \
    X(AIPA_C_INSTANCE_EXPIRED, "InstanceExpired", 403,                                             \
      "The postPaid instance has been expired.Please ensure your account have enough balance.",    \
      AIPA_ED_ALL, "M1-start")                                                                     \
    X(AIPA_C_INVALID_STATUS_NOT_FOUND, "InvalidStatus.NotFound", 404,                              \
      "The specified Status is not found.", AIPA_ED_ALL, "M1-describe")                            \
    /* A real answer in no table (never sent; an accepted alternative, see model.md). */           \
    X(AIPA_C_FORBIDDEN_INSTANCE_NOT_FOUND, "Forbidden.InstanceNotFound", 404,                      \
      "The specified Instance is not found, so we cann't get enough information to check "         \
      "permission in RAM.", AIPA_ED_ALL, "real")                                                   \
    /* ---- common (gateway and ECS-wide) errors, both editions ---- */                            \
    X(AIPA_C_MISSING_PARAMETER, "MissingParameter", 400,                                           \
      "The input parameter \"%s\" that is mandatory for processing this request is not "           \
      "supplied.", AIPA_ED_ALL, "s4.2")                                                            \
    X(AIPA_C_MISSING_NAMED, "Missing%s", 400, "%s is mandatory for this action.", AIPA_ED_ALL,     \
      "s4.2")                                                                                      \
    X(AIPA_C_INVALID_PARAMETER, "InvalidParameter", 400,                                           \
      "The specified parameter \"%s\" is not valid.", AIPA_ED_ALL, "s4.2")                         \
    X(AIPA_C_INVALID_PARAMETER_FORMAT, "InvalidParameter.Format", 400,                             \
      "Specified parameter format is not valid.", AIPA_ED_ALL, "s4.2")                             \
    X(AIPA_C_INVALID_NAMED, "Invalid%s", 400, "Specified parameter %s is not valid.",              \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_INVALID_INSTANCE_ID_MALFORMED, "InvalidInstanceId.Malformed", 400,                    \
      "The specified parameter \"InstanceId\" is not valid.", AIPA_ED_ALL, "s5.3 (other ops)")     \
    X(AIPA_C_INVALID_ACTION_NOT_FOUND, "InvalidAction.NotFound", 404,                              \
      "Specified api is not found, please check your url and method.", AIPA_ED_ALL, "s4.2")        \
    X(AIPA_C_INVALID_VERSION, "InvalidVersion", 400,                                               \
      "Specified parameter Version is not valid.", AIPA_ED_ALL, "s4.2")                            \
    X(AIPA_C_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch", 400,                               \
      "Specified signature is not matched with our calculation. server string to sign is:%s",      \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_INCOMPLETE_SIGNATURE, "IncompleteSignature", 400,                                     \
      "The request signature does not conform to Aliyun standards. server string to sign is:%s",   \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_INVALID_ACCESS_KEY_ID_NOT_FOUND, "InvalidAccessKeyId.NotFound", 404,                  \
      "Specified access key is not found.", AIPA_ED_ALL, "s4.2")                                   \
    X(AIPA_C_INVALID_ACCESS_KEY_ID_INACTIVE, "InvalidAccessKeyId.Inactive", 400,                   \
      "Specified access key is disabled.", AIPA_ED_ALL, "s4.2")                                    \
    X(AIPA_C_INVALID_TIMESTAMP_FORMAT, "InvalidTimeStamp.Format", 400,                             \
      "Specified time stamp or date value is not well formatted.", AIPA_ED_ALL, "s4.2")            \
    X(AIPA_C_INVALID_TIMESTAMP_EXPIRED, "InvalidTimeStamp.Expired", 400,                           \
      "Specified time stamp or date value is expired.", AIPA_ED_ALL, "s4.2")                       \
    X(AIPA_C_INVALID_SECURITY_TOKEN_EXPIRED, "InvalidSecurityToken.Expired", 400,                  \
      "Specified SecurityToken is expired.", AIPA_ED_ALL, "sts")                                   \
    X(AIPA_C_INVALID_SECURITY_TOKEN_MALFORMED, "InvalidSecurityToken.Malformed", 400,              \
      "Specified SecurityToken is malformed.", AIPA_ED_ALL, "sts")                                 \
    X(AIPA_C_INVALID_SECURITY_TOKEN_MISMATCH, "InvalidSecurityToken.MismatchWithAccessKey", 400,   \
      "Specified SecurityToken mismatch with the AccessKey.", AIPA_ED_ALL, "sts")                  \
    X(AIPA_C_ILLEGAL_TIMESTAMP, "IllegalTimestamp", 400,                                           \
      "The input parameter \"Timestamp\" that is mandatory for processing this request is not "   \
      "supplied.", AIPA_ED_ALL, "s4.2")                                                            \
    X(AIPA_C_SIGNATURE_NONCE_USED, "SignatureNonceUsed", 400,                                      \
      "Specified signature nonce was used already.", AIPA_ED_ALL, "s4.2")                          \
    X(AIPA_C_INVALID_SIGNATURE_METHOD, "InvalidSignatureMethod", 400,                              \
      "Specified signature method is not valid.", AIPA_ED_ALL, "s4.2")                             \
    X(AIPA_C_UNSUPPORTED_HTTP_METHOD, "UnsupportedHTTPMethod", 403,                                \
      "This HTTP method is not supported.", AIPA_ED_ALL, "s4.2")                                   \
    X(AIPA_C_THROTTLING, "Throttling", 400, "Request was denied due to request throttling.",       \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_THROTTLING_USER, "Throttling.User", 400,                                              \
      "Request was denied due to user flow control.", AIPA_ED_ALL, "s4.2")                         \
    X(AIPA_C_FORBIDDEN_RAM, "Forbidden.RAM", 403,                                                  \
      "User not authorized to operate on the specified resource, or this API doesn't support "     \
      "RAM.", AIPA_ED_ALL, "s4.2")                                                                 \
    X(AIPA_C_INVALID_OWNER_ID, "InvalidOwnerId", 400, "The specified OwnerId is not valid.",       \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_INVALID_OWNER_ACCOUNT, "InvalidOwnerAccount", 400,                                    \
      "The specified OwnerAccount is not valid.", AIPA_ED_ALL, "s4.2")                             \
    X(AIPA_C_INVALID_OWNER, "InvalidOwner", 400,                                                   \
      "OwnerId and OwnerAccount can't be used at one API access.", AIPA_ED_ALL, "s4.2")            \
    X(AIPA_C_INVALID_REGION_ID_NOT_FOUND, "InvalidRegionId.NotFound", 404,                         \
      "The specified RegionId does not exist.", AIPA_ED_ALL, "s4.2")                               \
    X(AIPA_C_OPERATION_CONFLICT, "OperationConflict", 409,                                         \
      "Request was denied due to conflict with a previous request.", AIPA_ED_ALL, "s4.2")          \
    X(AIPA_C_INTERNAL_ERROR, "InternalError", 500,                                                 \
      "The request processing has failed due to some unknown error, exception or failure.",        \
      AIPA_ED_ALL, "s4.2")                                                                         \
    X(AIPA_C_SERVICE_UNAVAILABLE, "ServiceUnavailable", 503,                                       \
      "The request has failed due to a temporary failure of the server.", AIPA_ED_ALL, "s4.2")
/* clang-format on */

/*
 * AIPA_C_OK is not an error: it marks success where a function returns a
 * code. The rows follow it in table order.
 */
enum aipa_code {
    AIPA_C_OK = 0,
#define AIPA_CODE_ENUM_(id, code, status, msg, ed, src) id,
    AIPA_API_ERRORS(AIPA_CODE_ENUM_)
#undef AIPA_CODE_ENUM_
        AIPA_C_COUNT_
};

struct aipa_api_error {
    enum aipa_code id;
    const char *code; /* wire Code; may hold one %s (AIPA_C_MISSING_NAMED) */
    int http_status;
    const char *message; /* may hold one %s */
    unsigned editions;   /* AIPA_ED_* bits */
    const char *source;
};

/* The row for id; NULL for AIPA_C_OK or an out-of-range value. */
AIPA_API const struct aipa_api_error *aipa_code_info(enum aipa_code id);
/* The first row whose wire Code equals code (n bytes); NULL if none. */
AIPA_API const struct aipa_api_error *aipa_code_lookup(const char *code, size_t n);
/* Every row whose Code equals code: writes up to cap ids, returns the count found. */
AIPA_API size_t aipa_code_lookup_all(const char *code, size_t n, enum aipa_code *out, size_t cap);
/* The row's template with its %s (if any) replaced by arg ("" when NULL). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_code_format_message(enum aipa_code id, const char *arg,
                                                           struct aipa_buf *out);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_code_format_code(enum aipa_code id, const char *arg,
                                                        struct aipa_buf *out);

#endif /* AIPA_ERRORS_H */
