//! Every text the tool shows staff and auditors, in Chinese (简体) and
//! English: one id per message, both languages beside each other, so a
//! label cannot exist in one language only.

/// The language of the output (`--lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// 简体中文 (the default: the staff's language).
    #[default]
    Zh,
    /// English.
    En,
}

macro_rules! catalog {
    ($($id:ident => $zh:literal, $en:literal;)*) => {
        /// A message id; [`Msg::text`] gives it in a language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $(
                #[doc = $en]
                $id,
            )*
        }

        impl Msg {
            /// Every message id.
            pub const ALL: &'static [Msg] = &[$(Msg::$id),*];

            /// The Chinese text.
            pub fn zh(self) -> &'static str {
                match self { $(Msg::$id => $zh,)* }
            }

            /// The English text.
            pub fn en(self) -> &'static str {
                match self { $(Msg::$id => $en,)* }
            }
        }
    };
}

catalog! {
    // Common.
    Journal => "日志文件", "Journal";
    Kiosk => "终端", "Kiosk";
    ChainHead => "哈希链头", "Chain head";
    Time => "时间", "Time";
    ReadFromCopy => "日志有未合并的预写日志(-wal)而无 -shm：在私有临时副本上读取，原文件未改动",
        "the journal has a -wal without its -shm: read from a private temporary copy, the original untouched";
    None => "无", "none";
    // verify
    VerifyOk => "日志核验通过：账目平衡，哈希链完整", "Journal verified: the books balance, the hash chain holds";
    AuditRows => "审计记录行数", "Audit rows";
    PaymentsChecked => "核对的支付笔数", "Payments checked";
    ChainRowsChecked => "重算哈希的行数", "Rows re-hashed";
    Took => "用时", "Took";
    UncleanShutdown => "上次未正常关闭（断电或崩溃）", "not closed cleanly last time (power cut or crash)";
    // report --day
    StatementTitle => "现金对账单", "Cash statement";
    Day => "日期", "Day";
    UtcOffset => "时区", "UTC offset";
    IntoBoxByDenomination => "当日入箱（按面额）", "Into the cash box during the day, by denomination";
    Currency => "币种", "Currency";
    Denomination => "面额", "Denomination";
    NoteCount => "张数", "Notes";
    NotesUnit => "张", "notes";
    Amount => "金额", "Amount";
    ValueUnknown => "面额未知", "value unknown";
    Total => "合计", "Total";
    TheDay => "当日", "During the day";
    EndOfDay => "日终累计", "End of day (cumulative)";
    IntoBox => "入箱", "Into the box";
    Credited => "已入账", "Credited";
    Pending => "待入账", "Pending";
    RefusedHeld => "拒付留存", "Refused, held";
    InDoubt => "存疑", "In doubt";
    Cleared => "已清箱取出", "Taken out at clearings";
    InBoxSinceClearing => "箱内（自上次清箱）", "In the box since the last clearing";
    CodePayments => "扫码缴费（不入钱箱）", "Paid by code (no cash)";
    MoneyLine => "钱线核对：入箱 = 已入账 + 待入账 + 拒付留存", "Money line: into the box = credited + pending + refused-held";
    Holds => "成立", "holds";
    Broken => "不成立", "BROKEN";
    InDoubtExplained => "存疑钞票不计入箱内，清箱实点可能多出至多此数",
        "in-doubt notes are not counted in the box: the count at clearing may exceed it by up to this";
    ClearingsDuringDay => "当日清箱", "Clearings during the day";
    // clearing-report
    ClearingTitle => "清箱交接记录（双人）", "Cash clearing handover record (dual control)";
    ClearingNo => "清箱编号", "Clearing no.";
    OperatorA => "操作员甲", "Operator A";
    OperatorB => "操作员乙", "Operator B";
    Expected => "应有（日志）", "Expected (journal)";
    Counted => "实点", "Counted";
    OverShort => "长短款", "Over / short";
    Over => "长款", "over";
    Short => "短款", "short";
    Even => "相符", "even";
    Counterfeit => "点钞发现假币（张）", "Counterfeit notes found";
    PendingAtClearing => "清箱时待入账", "Pending at the clearing";
    InDoubtAtClearing => "清箱时仍存疑（张）", "Still in doubt at the clearing (notes)";
    SettledNotes => "存疑钞票处理", "In-doubt notes settled";
    ByDenomination => "按面额清点", "Count by denomination";
    ExpectedNotes => "应有（张）", "Expected (notes)";
    CountedNotes => "实点（张）", "Counted (notes)";
    DifferenceNotes => "差异（张）", "Difference (notes)";
    OverShortByNote => "长短款明细", "Over / short by note";
    NotByDenomination => "未按面额清点", "not counted by denomination";
    NoLines => "无按面额记录（格式 5 之前的清箱）", "no figures by denomination (a clearing before format 5)";
    Unattributed => "无法按面额归属的应有金额", "Expected amount no denomination accounts for";
    Note => "钞票", "Note";
    Session => "交易", "Session";
    Value => "面额", "Value";
    How => "处理", "How";
    ByDevice => "设备报告", "by the device";
    ByStaff => "双人确认", "by two staff";
    FateInBox => "在钱箱内", "in the cash box";
    FateReturned => "已退还", "returned";
    FateUnknown => "仍无法确定", "still unknown";
    ChainHeadExplained => "请抄录或拍照保存：日后的链头必须延续此值", "keep a copy: every later chain head must extend this one";
    Signature => "签名", "Signature";
    Date => "日期", "Date";
    NoClearing => "日志中没有该清箱记录", "no such clearing in the journal";
    // export
    ColId => "行号", "row";
    ColTime => "时间", "time";
    ColAtMs => "毫秒时间戳", "at_ms";
    ColKind => "事件", "kind";
    ColSession => "交易号", "session";
    ColNote => "钞票号", "note";
    ColPaymentKey => "支付幂等键", "payment_key";
    ColNoteValue => "钞票面额", "note_value";
    ColCurrency => "币种", "currency";
    ColPaymentAmount => "支付金额", "payment_amount";
    ColPaymentMethod => "支付方式", "payment_method";
    ColPaymentState => "支付现状", "payment_state_now";
    ColDetail => "详情", "detail";
    Exported => "已导出资金事件行数", "Money event rows exported";
    // tickets
    TicketsTitle => "故障工单", "Fault tickets";
    Ticket => "工单", "Ticket";
    Site => "网点", "Site";
    Device => "设备", "Device";
    Fault => "故障", "Fault";
    Severity => "级别", "Severity";
    State => "状态", "State";
    Symptom => "现象", "Symptom";
    Opened => "发现", "Opened";
    Acknowledged => "受理", "Acknowledged";
    RemoteFix => "远程处理", "Remote fix tried";
    Dispatched => "派员", "Dispatched";
    Resolved => "解决", "Resolved";
    Steps => "处理步骤", "Handling steps";
    Person => "人员", "Person";
    Measure => "措施", "Measure";
    Result => "结果", "Result";
    NoTickets => "没有工单", "no tickets";
    StateOpen => "待处理", "open";
    StateAcknowledged => "已受理", "acknowledged";
    StateRemoteFixTried => "已远程处理", "remote fix tried";
    StateDispatched => "已派员", "dispatched";
    StateResolved => "已解决", "resolved";
    DeviceAcceptor => "纸币识别器", "bill acceptor";
    DeviceCashBox => "钱箱", "cash box";
    DevicePrinter => "凭条打印机", "receipt printer";
    DeviceReader => "扫码/读卡器", "code / card reader";
    DeviceLink => "网络链路", "network link";
    DeviceKiosk => "终端整机", "the kiosk as a whole";
    SeverityLow => "低", "low";
    SeverityMedium => "中", "medium";
    SeverityHigh => "高", "high";
    SeverityCritical => "紧急", "critical";
    StepsDropped => "较早的步骤未保留（条）", "older steps not kept";
    // errors
    Error => "错误", "error";
    ErrMissing => "文件不存在（未创建任何文件）", "no such file (nothing was created)";
    ErrNotAJournal => "不是终端日志文件", "not a kiosk journal";
    ErrCorrupt => "日志文件已损坏", "the journal file is damaged";
    ErrSchema => "日志格式版本不受支持", "the journal's format version is not supported";
    ErrStorage => "无法读取文件", "the file could not be read";
    ErrOrphan => "日志主文件丢失或为空，但其预写日志中有已确认的事件", "the journal file is missing or empty but its log holds acknowledged events";
    ErrUnbalanced => "账目不平", "the books do not balance";
    ErrChain => "审计记录的哈希链断开，第一处坏行", "the audit trail's hash chain is broken; first bad row";
    ErrOutput => "无法写出文件", "could not write the output file";
    ErrBadDay => "日期格式应为 YYYY-MM-DD", "the day must be YYYY-MM-DD";
    ErrBadOffset => "时区格式应为 +08:00", "the UTC offset must look like +08:00";
    ErrOther => "日志错误", "journal error";
    LeftAsItWas => "文件保持原样，未写入任何内容", "the file is left as it was; nothing was written";
}

impl Msg {
    /// The text in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }

    /// Chinese first, English second: `中文 / English` (printed labels,
    /// error messages).
    pub fn both(self) -> String {
        format!("{} / {}", self.zh(), self.en())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `s` has a CJK ideograph (a Chinese text, not a copy of the English).
    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_message_has_chinese_and_english() {
        assert!(Msg::ALL.len() > 50);
        for m in Msg::ALL {
            assert!(
                has_chinese(m.zh()),
                "{m:?} has no Chinese text: {:?}",
                m.zh()
            );
            assert!(!m.en().is_empty(), "{m:?} has no English text");
            assert!(!has_chinese(m.en()), "{m:?}: English text is Chinese");
            assert_eq!(m.text(Lang::Zh), m.zh());
            assert_eq!(m.text(Lang::En), m.en());
        }
    }

    #[test]
    fn both_puts_chinese_first() {
        assert_eq!(Msg::Counted.both(), "实点 / Counted");
    }
}
