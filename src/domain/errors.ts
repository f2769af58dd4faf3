/**
 * Every refusal of the hub is a HubError: a stable machine code, an HTTP status and a human
 * message in Vietnamese and English. Errors are mapped to responses in exactly one place
 * (http/errors.ts); clients get { code, message, messageVi, details, id }.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly vi: string;
  readonly en: string;
}

export const ERROR_CODES = {
  UNAUTHENTICATED: {
    status: 401,
    vi: 'Chưa xác thực hệ thống gửi',
    en: 'The calling system is not authenticated',
  },
  FORBIDDEN: { status: 403, vi: 'Không có quyền thực hiện', en: 'Not allowed' },
  NOT_FOUND: { status: 404, vi: 'Không tìm thấy', en: 'Not found' },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    vi: 'Thông điệp vượt quá kích thước cho phép',
    en: 'The message is too large',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    vi: 'Kiểu nội dung không được hỗ trợ',
    en: 'Unsupported content type',
  },
  XML_MALFORMED: { status: 400, vi: 'Thông điệp XML không hợp lệ', en: 'The XML message is malformed' },
  XML_PROLOG_INVALID: {
    status: 400,
    vi: 'Có dữ liệu lạ trước khai báo XML',
    en: 'Unexpected bytes before the XML declaration',
  },
  XML_DOCTYPE_FORBIDDEN: {
    status: 400,
    vi: 'Không chấp nhận DOCTYPE hoặc khai báo thực thể',
    en: 'DOCTYPE and entity declarations are not accepted',
  },
  XML_LIMITS_EXCEEDED: {
    status: 400,
    vi: 'Thông điệp vượt giới hạn độ sâu hoặc số phần tử',
    en: 'The message exceeds the depth or element-count limits',
  },
  SCHEMA_INVALID: {
    status: 422,
    vi: 'Thông điệp không đúng cấu trúc edXML',
    en: 'The message does not follow the edXML schema',
  },
  CONTENT_HASH_MISMATCH: {
    status: 400,
    vi: 'Mã băm của tệp không khớp với nội dung nhận được',
    en: 'The declared file hash does not match the received bytes',
  },
  SIGNATURE_MISSING: {
    status: 422,
    vi: 'Thông điệp chưa được ký số',
    en: 'The message carries no XML signature',
  },
  SIGNATURE_PROFILE_VIOLATION: {
    status: 422,
    vi: 'Chữ ký không đúng hồ sơ chữ ký của trục',
    en: 'The signature does not follow the hub signature profile',
  },
  SIGNATURE_ALGORITHM_FORBIDDEN: {
    status: 422,
    vi: 'Thuật toán chữ ký không được phép',
    en: 'The signature uses a forbidden algorithm',
  },
  SIGNATURE_INVALID: { status: 422, vi: 'Chữ ký số không hợp lệ', en: 'The XML signature does not verify' },
  CERT_UNTRUSTED: {
    status: 422,
    vi: 'Chứng thư số không được cấp bởi CA tin cậy',
    en: 'The certificate does not chain to a trusted root',
  },
  CERT_EXPIRED: { status: 422, vi: 'Chứng thư số đã hết hạn', en: 'The certificate has expired' },
  CERT_NOT_YET_VALID: {
    status: 422,
    vi: 'Chứng thư số chưa có hiệu lực',
    en: 'The certificate is not yet valid',
  },
  CERT_REVOKED: { status: 422, vi: 'Chứng thư số đã bị thu hồi', en: 'The certificate has been revoked' },
  CERT_REVOCATION_UNKNOWN: {
    status: 422,
    vi: 'Không xác định được tình trạng thu hồi của chứng thư số',
    en: 'The revocation status of the certificate cannot be established',
  },
  CERT_KEY_USAGE: {
    status: 422,
    vi: 'Chứng thư số không dùng để ký',
    en: 'The certificate key usage does not allow signing',
  },
  CERT_SUBJECT_MISMATCH: {
    status: 422,
    vi: 'Chủ thể của chứng thư số ghi mã của cơ quan khác',
    en: 'The certificate subject names another agency',
  },
  SENDER_MISMATCH: {
    status: 422,
    vi: 'Chứng thư số không thuộc cơ quan gửi',
    en: 'The signing certificate is not registered to the sending agency',
  },
  CALLER_MISMATCH: {
    status: 403,
    vi: 'Hệ thống gọi không được gửi thay cơ quan này',
    en: 'The calling system may not send on behalf of this agency',
  },
  AGENCY_CODE_INVALID: {
    status: 422,
    vi: 'Mã định danh không hợp lệ',
    en: 'Invalid agency identification code',
  },
  UNKNOWN_RECIPIENT: { status: 422, vi: 'Không có nơi nhận hợp lệ', en: 'No deliverable recipient' },
  SECRET_ROUTE_REQUIRED: {
    status: 422,
    vi: 'Văn bản mật phải đi trên tuyến có mã hóa cơ yếu',
    en: 'Secret documents require a cipher-protected route',
  },
  DUPLICATE_CONFLICT: {
    status: 409,
    vi: 'Mã văn bản đã được gửi với nội dung khác',
    en: 'This DocumentId was already submitted with different content',
  },
  STATUS_TRANSITION_INVALID: {
    status: 409,
    vi: 'Trạng thái xử lý không hợp lệ theo thứ tự',
    en: 'The status transition is not allowed',
  },
  STATUS_NO_PENDING_REQUEST: {
    status: 409,
    vi: 'Trạng thái 15/16 chỉ dùng để trả lời yêu cầu thu hồi hoặc cập nhật đang chờ, nhưng văn bản này không có yêu cầu nào: hãy chờ văn bản thu hồi/cập nhật đến hộp thư rồi gửi 15 (đồng ý) hoặc 16 (từ chối) cho văn bản gốc; để báo tiến độ xử lý, dùng 01–06',
    en: '15/16 only answer a pending recall or update, and this document has none: wait for the recall/update to arrive in the inbox, then send 15 (agree) or 16 (refuse) about the original document; to report progress, use 01–06',
  },
  REFERENCED_DOCUMENT_UNKNOWN: {
    status: 422,
    vi: 'Văn bản được thu hồi, cập nhật hoặc thay thế không tồn tại',
    en: 'The document to revoke, update or replace is unknown',
  },
  NOT_ORIGINAL_SENDER: {
    status: 403,
    vi: 'Chỉ cơ quan gửi văn bản gốc mới được thu hồi, cập nhật, thay thế',
    en: 'Only the original sender may revoke, update or replace a document',
  },
  DOCUMENT_ID_SENDER_MISMATCH: {
    status: 422,
    vi: 'Mã văn bản (DocumentId) mang mã định danh của cơ quan khác cơ quan gửi',
    en: 'The DocumentId carries the code of another agency than the sender',
  },
  STATUS_UNKNOWN_DOCUMENT: {
    status: 422,
    vi: 'Trạng thái cho văn bản mà cơ quan chưa nhận',
    en: 'Status for a document the reporter never received',
  },
  AGENCY_DUPLICATE_NAME: {
    status: 409,
    vi: 'Đơn vị cùng tên đã có trong cùng đơn vị cấp trên',
    en: 'An active unit with the same name already exists under this parent',
  },
  PREDECESSOR_CLOSED: {
    status: 409,
    vi: 'Đơn vị tiền thân đã bị đóng (đã sáp nhập hoặc chia tách)',
    en: 'The predecessor is already closed (merged or split)',
  },
  // Issue 19 §2: push endpoints are https:// outside development (directory.allowHttpEndpoints).
  ENDPOINT_NOT_HTTPS: {
    status: 422,
    vi: 'Địa chỉ điểm nhận phải dùng https://',
    en: 'The push endpoint must be an https:// URL',
  },
  VALIDATION_FAILED: { status: 400, vi: 'Dữ liệu không hợp lệ', en: 'Invalid request data' },
  CONFLICT: { status: 409, vi: 'Xung đột dữ liệu', en: 'Conflicting data' },
  RATE_LIMITED: { status: 429, vi: 'Quá nhiều yêu cầu', en: 'Too many requests' },
  LOGIN_FAILED: {
    status: 401,
    vi: 'Sai tên đăng nhập hoặc mật khẩu',
    en: 'Wrong user name or password',
  },
  LOGIN_THROTTLED: {
    status: 429,
    vi: 'Đăng nhập sai quá nhiều lần, vui lòng thử lại sau',
    en: 'Too many failed logins, try again later',
  },
  CSRF_INVALID: {
    status: 403,
    vi: 'Biểu mẫu đã hết hạn hoặc không hợp lệ, vui lòng tải lại trang',
    en: 'The form is missing or has an invalid anti-forgery token; reload the page',
  },
  VDXP_ADMIN_DISABLED: {
    status: 403,
    vi: 'Thao tác quản trị qua API tương thích trục quốc gia đã bị tắt',
    en: 'Administrative operations of the national-axis API are turned off',
  },
  VDXP_ADMIN_NOT_ALLOWED: {
    status: 403,
    vi: 'Hệ thống hoặc địa chỉ này không được dùng thao tác quản trị qua API tương thích trục quốc gia',
    en: 'This system or source address may not use the administrative operations of the national-axis API',
  },
  // Issue 18 §4-§6 (docs/security.md §9): request intake on /v1 and malformed input.
  BODY_HASH_REQUIRED: {
    status: 428,
    vi: 'Thân yêu cầu lớn phải kèm tiêu đề X-Hub-Content-SHA256',
    en: 'A body this large needs the X-Hub-Content-SHA256 header',
  },
  BODY_HASH_MISMATCH: {
    status: 400,
    vi: 'Mã băm của thân yêu cầu không khớp với tiêu đề X-Hub-Content-SHA256',
    en: 'The body does not match its X-Hub-Content-SHA256 header',
  },
  REQUEST_REPLAYED: {
    status: 401,
    vi: 'Yêu cầu đã ký này đã được dùng, hãy ký lại yêu cầu',
    en: 'This signed request was already used; sign the request again',
  },
  INTAKE_BUSY: {
    status: 503,
    vi: 'Trục đang nhận quá nhiều thông điệp lớn, vui lòng thử lại sau',
    en: 'Too many large messages are being received; retry later',
  },
  URL_MALFORMED: {
    status: 400,
    vi: 'Đường dẫn có mã hóa phần trăm không hợp lệ',
    en: 'The URL path has a malformed percent-encoding',
  },
  XML_ENCODING_UNSUPPORTED: {
    status: 400,
    vi: 'Thông điệp phải mã hóa UTF-8 (không nhận UTF-16)',
    en: 'The message must be encoded in UTF-8 (UTF-16 is not accepted)',
  },
  UNAVAILABLE: { status: 503, vi: 'Dịch vụ tạm thời không sẵn sàng', en: 'Service temporarily unavailable' },
  // Hub-signed artefacts (receipts, evidence): src/crypto/hub-signed.ts, docs/security.md §7.
  HUB_SIGNER_NOT_HUB: {
    status: 422,
    vi: 'Chữ ký không phải của chứng thư ký số của trục',
    en: 'Not signed by a hub signing certificate (the hub-signing extended key usage is missing)',
  },
  HUB_SIGNER_NOT_PINNED: {
    status: 422,
    vi: 'Chứng thư ký số của trục không nằm trong danh sách đã ghim',
    en: 'The hub certificate is not among the pinned hub certificates',
  },
  HUB_SIGNER_EXPIRED: {
    status: 422,
    vi: 'Chứng thư ký số của trục không có hiệu lực tại thời điểm ghi trong nội dung đã ký',
    en: 'The hub certificate was not valid at the time the signed content states',
  },
  HUB_PINS_MISSING: {
    status: 422,
    vi: 'Chưa cấu hình danh sách chứng thư ký số của trục (dấu vân tay SHA-256)',
    en: 'No pinned hub certificates are configured: nothing hub-signed can be accepted',
  },
  EVIDENCE_INCONSISTENT: {
    status: 422,
    vi: 'Biên nhận, bảng kê và thông điệp trong gói chứng cứ không khớp nhau',
    en: 'The receipt, the manifest and the message of the evidence bundle disagree',
  },
  // --- web UI lists and operations pages (issue 19) ---
  DATE_RANGE_REVERSED: {
    status: 400,
    vi: 'Ngày bắt đầu sau ngày kết thúc',
    en: 'The start date is after the end date',
  },
  EXPORT_TOO_LARGE: {
    status: 400,
    vi: 'Quá nhiều văn bản để xuất một lần, hãy thu hẹp bộ lọc',
    en: 'Too many documents to export at once: narrow the filter',
  },
  EVIDENCE_INCOMPLETE: {
    status: 503,
    vi: 'Chưa đủ dữ liệu để lập gói chứng cứ kiểm tra được (thiếu chuỗi chứng thư hoặc danh sách thu hồi còn hiệu lực)',
    en: 'The evidence bundle would be incomplete (a certificate chain or a usable CRL is missing)',
  },
  REPLAY_ENDPOINT_FAILING: {
    status: 409,
    vi: 'Điểm nhận vẫn đang lỗi; cần xác nhận rõ trước khi chuyển lại',
    en: 'The endpoint is still failing; replaying needs an explicit confirmation',
  },
  // Issue 23 (operator): hubctl identity, backups, key rotation (docs/deployment.md).
  OPERATOR_LOGIN_REQUIRED: {
    status: 401,
    vi: 'Lệnh quản trị cần đăng nhập bằng tài khoản quản trị của trục (--user và mật khẩu)',
    en: 'Admin commands need a hub administrator login (--user and a password)',
  },
  BACKUP_TARGET_NOT_EMPTY: {
    status: 409,
    vi: 'Chỉ khôi phục vào cơ sở dữ liệu trống',
    en: 'A backup is restored only into an empty database',
  },
  BACKUP_INVALID: {
    status: 422,
    vi: 'Bản sao lưu không đầy đủ hoặc đã bị thay đổi (số bản ghi hoặc mã băm không khớp)',
    en: 'The backup is incomplete or was altered (counts or hashes do not match its manifest)',
  },
  BACKUP_DIR_IN_USE: {
    status: 409,
    vi: 'Thư mục sao lưu đã có dữ liệu, hãy chọn thư mục mới',
    en: 'The backup directory is not empty: choose a new one',
  },
  CREDENTIALS_KEY_MISMATCH: {
    status: 422,
    vi: 'Khóa bảo vệ thông tin xác thực không mở được các bí mật đã lưu',
    en: 'The credentials key cannot open the stored secrets',
  },
  INTERNAL: { status: 500, vi: 'Lỗi hệ thống', en: 'Internal error' },
  // --- startup (issue 23): the process itself refuses to start; printed, never an HTTP answer ---
  START_REFUSED: {
    status: 500,
    vi: 'Từ chối khởi động: cấu hình không an toàn hoặc không hợp lệ',
    en: 'Refusing to start: the configuration is unsafe or invalid',
  },
  // --- federation (issue 22, docs/federation.md) ---
  REMOTE_UNIT_READ_ONLY: {
    status: 409,
    vi: 'Đơn vị thuộc hệ thống liên thông khác quản lý, không sửa được tại đây',
    en: 'The unit is owned by a federation peer and cannot be edited here',
  },
  PEER_SIGNER_UNTRUSTED: {
    status: 422,
    vi: 'Chứng thư ký không thuộc tổ chức chứng thực được tin cậy cho hệ thống liên thông này',
    en: 'The signing certificate does not chain to a root trusted for this federation peer',
  },
  PEER_NOT_RELAYED: {
    status: 422,
    vi: 'Văn bản nhận từ hệ thống liên thông không được chuyển tiếp sang hệ thống liên thông khác',
    en: 'A message received from a federation peer is never relayed to a peer',
  },
  // --- federation peers managed by administrators (issue 22, fedapi; docs/federation.md) ---
  PEER_EXISTS: {
    status: 409,
    vi: 'Đã có hệ thống liên thông với mã này',
    en: 'A federation peer with this id already exists',
  },
  PEER_FROM_CONFIG: {
    status: 409,
    vi: 'Hệ thống liên thông được khai báo trong tệp cấu hình, chỉ sửa được ở đó',
    en: 'The federation peer is defined in the configuration and is changed there only',
  },
  PEER_INVALID: {
    status: 422,
    vi: 'Thông tin hệ thống liên thông không hợp lệ (địa chỉ, TLS hoặc chứng thư)',
    en: 'The federation peer settings are invalid (address, TLS or certificates)',
  },
  PEER_BACKLOG: {
    status: 409,
    vi: 'Hệ thống liên thông còn văn bản đang chờ gửi; dùng --force để chuyển chúng vào hàng lỗi',
    en: 'Deliveries still wait for this peer; --force moves them to the dead letters',
  },
  PEER_INBOUND_TAKEN: {
    status: 409,
    vi: 'Mã hệ thống đăng nhập của hệ thống liên thông đã được dùng',
    en: 'The inbound system id of the peer is already in use',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly messageVi: string;
  /** What exactly was refused (free text, usually English), without the code's own message. */
  readonly reason: string | undefined;

  constructor(code: ErrorCode, reason?: string, details?: Record<string, unknown>) {
    const spec = ERROR_CODES[code];
    super(reason ? `${spec.en}: ${reason}` : spec.en);
    this.name = 'HubError';
    this.code = code;
    this.status = spec.status;
    this.details = details;
    this.messageVi = reason ? `${spec.vi}: ${reason}` : spec.vi;
    this.reason = reason || undefined;
  }
}

export const isHubError = (e: unknown): e is HubError => e instanceof HubError;
