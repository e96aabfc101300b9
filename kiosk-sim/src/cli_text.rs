//! The operator-facing text of the `kiosk-sim` command line, in Chinese
//! (简体, the default) and English (`--lang en` or `KIOSK_LANG=en`).
//!
//! Every message is one [`Msg`] id with both texts side by side, so a
//! message cannot exist in one language only: the [`messages!`] table
//! below will not compile without both. Texts with values name them in
//! braces (`{seed}`); [`Msg::fill`] puts the values in, so each language
//! can order them as it reads best. Machine-readable output (`--json`) does
//! not go through here: its field names and values stay the same in every
//! language.
//!
//! Tables that mix Chinese and Latin text are laid out by `comfy-table`
//! ([`table_lines`]), which measures cells by display width (unicode-width):
//! a Chinese character takes two columns of a terminal, so padding by
//! `char` count would push the columns apart.

use std::fmt::Display;

use comfy_table::{CellAlignment, ContentArrangement, Table};
use unicode_width::UnicodeWidthStr;

/// The language of the command line's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Lang {
    /// 简体中文: operators read Chinese first.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language named by `KIOSK_LANG` (`en`, `en_US.UTF-8`, `zh`, ...),
    /// if it names one this catalog has; `None` when unset or unknown, so
    /// the default (Chinese) applies.
    pub fn from_env() -> Option<Lang> {
        Lang::from_tag(&std::env::var("KIOSK_LANG").ok()?)
    }

    /// A language tag's language: `en`, `EN`, `en_US.UTF-8` and `en-GB`
    /// are English; `zh`, `zh_CN`, `zh-Hans` are Chinese.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .split(['_', '-', '.'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }
}

/// Defines [`Msg`] and its texts: each id must have both a `zh` and an `en` text.
macro_rules! messages {
    ($($(#[doc = $doc:literal])* $id:ident => zh: $zh:literal, en: $en:literal;)*) => {
        /// One piece of operator-facing text; see [`Msg::text`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $($(#[doc = $doc])* $id,)*
        }

        impl Msg {
            /// Every message id, for the catalog's completeness test.
            pub const ALL: &'static [Msg] = &[$(Msg::$id,)*];

            /// The text in `lang`, with `{name}` where a value goes.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Msg::$id, Lang::Zh) => $zh, (Msg::$id, Lang::En) => $en,)*
                }
            }
        }
    };
}

messages! {
    /// An error line.
    Error => zh: "错误：{message}", en: "error: {message}";
    /// `--seeds 0`.
    SeedsZero => zh: "--seeds 必须至少为 1（每个演练运行的种子数）", en: "--seeds must be at least 1 (the number of seeds each drill runs)";
    /// Drills × seeds does not fit a 64-bit count.
    TooManyRuns => zh: "{drills} 个演练 × {seeds} 个种子超出可计数的运行次数", en: "{drills} drills x {seeds} seeds is more runs than can be counted";
    /// Nothing named to run.
    NothingToRun => zh: "请指定要运行的演练编号，或 --all，或 --file 路径；--list 列出所有编号", en: "name drills to run, or --all, or --file PATH; --list shows the ids";
    /// A file could not be written.
    CannotWrite => zh: "无法写入 {path}：{error}", en: "cannot write {path}: {error}";
    /// `--list` header: id column.
    ListId => zh: "编号", en: "ID";
    /// `--list` header: title column.
    ListTitle => zh: "标题", en: "TITLE";
    /// `--trace` header.
    TraceOf => zh: "{id} 使用种子 {seed} 的事件轨迹：", en: "trace of {id} with seed {seed}:";
    /// Results table: drill column.
    ColDrill => zh: "演练", en: "DRILL";
    /// Results table: result column.
    ColResult => zh: "结果", en: "RESULT";
    /// Results table: fault → detected column.
    ColDetect => zh: "发现用时", en: "DETECT";
    /// Results table: detected → fallback column.
    ColFallback => zh: "降级用时", en: "FALLBACK";
    /// Results table: detected → resolved column.
    ColResolve => zh: "解决用时", en: "RESOLVE";
    /// Results table: money invariant column.
    ColInvariant => zh: "资金平衡", en: "INVARIANT";
    /// A run or drill passed (table, progress).
    Pass => zh: "通过", en: "pass";
    /// A run failed (progress).
    Fail => zh: "失败", en: "FAIL";
    /// A run could not start (progress).
    RunError => zh: "出错", en: "error";
    /// The money invariant held in every run.
    InvariantHolds => zh: "成立", en: "holds";
    /// The money invariant broke in some run.
    InvariantBroken => zh: "被破坏", en: "BROKEN";
    /// No money modelled (site drills).
    NotApplicable => zh: "不适用", en: "n/a";
    /// Under a drill's table row: one failing seed.
    FailedWithSeed => zh: "    种子 {seed} 失败：复现命令 `{command}`", en: "    failed with seed {seed}: reproduce with `{command}`";
    /// Under a drill's table row: more failing seeds than listed.
    MoreFailedSeeds => zh: "    另有 {count} 个种子失败（未列出）", en: "    and {count} more failing seeds (not listed)";
    /// Under the table with many seeds.
    TimingsWorstOver => zh: "（用时：{seeds} 个种子中最差的一次，按模拟时间）", en: "(timings: worst over {seeds} seeds, in simulated time)";
    /// The last line of `kiosk-sim drill`.
    DrillSummary => zh: "共 {runs} 次演练运行（{drills} 个演练 × {seeds} 个种子），实际用时 {wall} 秒：{passed} 次通过，{failed} 次失败", en: "{runs} drill runs ({drills} drills x {seeds} seeds) in {wall}s wall time: {passed} passed, {failed} failed";
    /// Report heading: passed.
    ReportPass => zh: "通过", en: "PASS";
    /// Report heading: failed.
    ReportFail => zh: "失败", en: "FAIL";
    /// Report line mark: this part held (display width 4).
    MarkOk => zh: "正常", en: "ok  ";
    /// Report line mark: this part failed (display width 4).
    MarkFail => zh: "失败", en: "FAIL";
    /// Report line mark: not checked (display width 4).
    MarkNa => zh: "不计", en: "n/a ";
    /// An expectation and what was seen.
    Expectation => zh: "  [{mark}] {expectation}（实际：{observed}）", en: "  [{mark}] {expectation} (saw: {observed})";
    /// The money invariant line.
    MoneyLine => zh: "  [{mark}] 资金：钱箱 {box} = 已入账 {credited} + 待确认 {pending} + 已拒付 {refused}（日志记为在箱 {in_box}，存疑 {in_doubt}，共 {notes} 张）；后台已入账 {backend}，同一幂等键最多应用 {max} 次", en: "  [{mark}] money: box {box} = credited {credited} + pending {pending} + refused {refused} (journal in box {in_box}, in doubt {in_doubt} in {notes} notes); backend credited {backend}, max applies per key {max}";
    /// One broken part of the money invariant.
    Violation => zh: "         违反：{violation}", en: "         violation: {violation}";
    /// Site drills model no cash.
    MoneyNotModelled => zh: "  [{mark}] 资金：站点模拟不记现金（单机演练会核对每个会话的现金）", en: "  [{mark}] money: not modelled by the site simulation (the kiosk drills check every session's cash)";
    /// The timings line.
    TimingsLine => zh: "  用时（模拟时间）：故障发生于 {fault} → 发现 +{detect} → 降级 +{fallback} → 解决 +{resolve}", en: "  timings (simulated): fault at {fault} → detected +{detect} → fallback +{fallback} → resolved +{resolve}";
    /// The seed and trace line.
    SeedLine => zh: "  种子 {seed}  轨迹 {trace}（{events} 个事件，模拟 {simulated}）", en: "  seed {seed}  trace {trace}  ({events} events, {simulated} simulated)";
    /// How to run a failed drill again.
    ReproduceWith => zh: "  复现命令：{command}", en: "  reproduce with: {command}";
    /// Expectation: the fault is detected.
    ExpDetected => zh: "发现故障（{pattern}）", en: "fault detected ({pattern})";
    /// Expectation: the fault is detected within a limit.
    ExpDetectedWithin => zh: "{limit} 毫秒内发现故障（{pattern}）", en: "fault detected ({pattern}) within {limit} ms";
    /// Expectation: the customer is told / the kiosk falls back.
    ExpFallback => zh: "告知顾客 / 降级（{pattern}）", en: "customer told / fallback ({pattern})";
    /// Expectation: the customer is told within a limit of detection.
    ExpFallbackWithin => zh: "发现后 {limit} 毫秒内告知顾客 / 降级（{pattern}）", en: "customer told / fallback ({pattern}) within {limit} ms of detection";
    /// Expectation: the fault is resolved.
    ExpResolved => zh: "故障解决（{pattern}）", en: "resolved ({pattern})";
    /// Expectation: an event happens.
    ExpHappens => zh: "发生：{pattern}", en: "happens: {pattern}";
    /// Expectation: an event never happens.
    ExpNever => zh: "从不发生：{pattern}", en: "never happens: {pattern}";
    /// Expectation: one event before another.
    ExpOrder => zh: "{first} 先于 {then}", en: "{first} before {then}";
    /// Expectation: the journal can be read.
    ExpJournalReadable => zh: "日志可读", en: "journal readable";
    /// Expectation: a total equals a value.
    ExpTotal => zh: "{name} = {want}", en: "{name} = {want}";
    /// Total: credited cash.
    TotalCredited => zh: "已入账", en: "credited";
    /// Total: pending cash.
    TotalPending => zh: "待确认", en: "pending";
    /// Total: refused-and-held cash.
    TotalRefused => zh: "已拒付", en: "refused";
    /// Total: what the cash box took in.
    TotalCashBox => zh: "钱箱", en: "cash box";
    /// Total: notes in doubt.
    TotalInDoubtNotes => zh: "存疑纸币张数", en: "in-doubt notes";
    /// Total: notes rejected (returned to the customer).
    TotalRejectedNotes => zh: "退回纸币张数", en: "rejected notes";
    /// Expectation: two runs with one seed give one trace.
    ExpDeterministicTrace => zh: "确定性：同一种子再运行一次，事件轨迹相同", en: "deterministic: a second run with the same seed gives the same trace";
    /// Expectation: two site runs with one seed give one digest.
    ExpDeterministicDigest => zh: "确定性：同一种子再运行一次，摘要相同", en: "deterministic: a second run with the same seed gives the same digest";
    /// Observed: two digests or trace hashes.
    ObsTwoHashes => zh: "{first} 与 {second}", en: "{first} vs {second}";
    /// Observed: a time from detection or the fault.
    ObsMs => zh: "{ms} 毫秒", en: "{ms} ms";
    /// Observed: the event never happened.
    ObsNever => zh: "未发生", en: "never";
    /// Observed: the event happened at a simulated time.
    ObsAt => zh: "于 {at}", en: "at {at}";
    /// Observed: when each of two events happened.
    ObsOrder => zh: "{first} 于 {first_at}，{then} 于 {then_at}", en: "{first} at {first_at}, {then} at {then_at}";
    /// Observed: an error.
    ObsError => zh: "出错", en: "error";
    /// Observed: a value as it is (numbers, money).
    ObsValue => zh: "{value}", en: "{value}";
    /// Expectation (explorer checks drill): one check.
    ExpExplorerCheck => zh: "探索检查 {check}{allowed}：{definition}", en: "explorer check {check}{allowed}: {definition}";
    /// Observed: the explorer check held.
    ObsHeld => zh: "成立", en: "held";
    /// Observed: the explorer check broke.
    ObsViolated => zh: "违反：{violation}", en: "{violation}";
    /// Site expectation: guidance beats the unguided baseline.
    ExpGuidanceBetter => zh: "有引导的顾客比无引导（入口附近随机选）至少少等 {pct}", en: "guided customers wait at least {pct} less than unguided (random pick near the entrance)";
    /// Site observed: guidance's improvements.
    ObsGuidanceBetter => zh: "平均等待缩短 {wait}，平均排队缩短 {queue}；相对自行排最短队的顾客：等待缩短 {vs_self}", en: "mean wait {wait} better, mean queue {queue} better; against customers who pick the shortest visible queue: wait {vs_self} better";
    /// Site expectation: guidance no worse than self-organised customers.
    ExpGuidanceNotWorse => zh: "引导不比顾客自行排最短队差（相差 5% 以内）", en: "guidance is no worse than customers picking the shortest visible queue (within 5%)";
    /// Site expectation: a ticket opens for the failed kiosk.
    ExpTicketOpened => zh: "为故障自助机开出工单", en: "a ticket is opened for the failed kiosk";
    /// Site observed: no ticket.
    ObsNoTicket => zh: "未开工单", en: "no ticket";
    /// Site expectation: a spare takes customers.
    ExpSpareTakesOver => zh: "故障后由备机接待顾客", en: "a spare takes customers after the failure";
    /// Site expectation: spares shorten the wait after the failure.
    ExpSparesShorten => zh: "故障后有备机时等待至少缩短 {pct}", en: "waiting after the failure is at least {pct} shorter with spares than without";
    /// Site observed: the wait with and without spares.
    ObsSparesShorten => zh: "{pct}（有备机平均等待 {with} 秒，无备机 {without} 秒）", en: "{pct} (mean wait {with}s with spares, {without}s without)";
    /// Site expectation: the site keeps its spares.
    ExpSparesKept => zh: "站点至少保有 {target} 台备机", en: "the site keeps at least {target} spares";
    /// Site expectation: faults by kind add up.
    ExpFaultsAddUp => zh: "各类故障之和等于总数", en: "the faults by kind add up to the total";
    /// Site observed: faults by kind and in total.
    ObsFaultsAddUp => zh: "按类 {by_kind} 次，共 {total} 次", en: "{by_kind} by kind, {total} in total";
    /// Site expectation: no fault resolved before a response.
    ExpRespondedFirst => zh: "没有故障未经响应就解决", en: "no fault was resolved without a response first";
    /// Site observed: responded, resolved, open.
    ObsRespondedFirst => zh: "响应 {responded} 次，解决 {resolved} 次，结束时未结 {open} 次", en: "{responded} responded, {resolved} resolved, {open} open at the end";
    /// Site expectation: faults answered within the target.
    ExpWithinTarget => zh: "至少 {pct} 的故障在 {minutes} 分钟目标内响应", en: "at least {pct} of faults answered within the {minutes}-minute target";
    /// Site observed: share within target, mean response and repair.
    ObsWithinTarget => zh: "{pct}（平均响应 {response} 秒，平均修复 {repair} 秒）", en: "{pct} (mean response {response}s, mean repair {repair}s)";
    /// The expectation a panicking run failed.
    NoPanicExpectation => zh: "演练运行到结束而不崩溃（panic）", en: "the drill runs to its end without panicking";
    /// What a panicking run showed.
    PanickedWith => zh: "崩溃（panic）：{message}", en: "panicked: {message}";
    /// `explore` start line.
    ExploreStart => zh: "explore：从种子 {seed} 起共 {runs} 次运行，{jobs} 个线程{allowing}", en: "explore: {runs} runs from seed {seed} on {jobs} threads{allowing}";
    /// `explore` start line: the allowed checks.
    ExploreAllowing => zh: "，允许 {checks}", en: ", allowing {checks}";
    /// `explore` progress note: failing runs so far.
    ExploreFailing => zh: "{failed} 次失败", en: "{failed} failing";
    /// The progress bar's label for drills.
    DrillLabel => zh: "演练", en: "drill";
    /// The progress bar on a terminal (an indicatif template: `{pos}`,
    /// `{eta}`, `{wide_msg}` are indicatif's, `{rate}` is runs/s with one
    /// decimal; filled as it draws, the note cut to the terminal's width).
    ProgressBar => zh: "{prefix} [{bar:20}] {pos}/{len} 次，每秒 {rate} 次，剩余 {eta} {wide_msg}", en: "{prefix} [{bar:20}] {pos}/{len} runs, {rate} runs/s, ETA {eta} {wide_msg}";
    /// The progress line when stderr is not a terminal (every 10 s).
    ProgressLine => zh: "{label}：{done}/{total} 次运行，每秒 {rate} 次，预计剩余 {eta}；{note}", en: "{label}: {done}/{total} runs, {rate} runs/s, {eta} left; {note}";
    /// `explore` summary line.
    ExploreSummary => zh: "explore：共 {runs} 次运行，{failed} 次失败，每秒 {rate} 次（检查了 {steps} 步，模拟 {hours} 小时，实际用时 {wall} 秒）", en: "explore: {runs} runs, {failed} failing, {rate} runs/s ({steps} steps checked, {hours} h simulated, {wall}s wall)";
    /// `explore`: how often a check fired.
    ExploreFired => zh: "  {check}{mark}：在 {runs} 次运行中触发", en: "  {check}{mark}: fired in {runs} runs";
    /// `explore`: the check is allowed (a known bug).
    ExploreAllowed => zh: "（已允许）", en: " (allowed)";
    /// A summary's unit for durations.
    UnitSeconds => zh: "秒", en: "s";
    /// A summary of samples (site drills).
    SummaryLine => zh: "平均 {mean}{unit}  中位 {p50}{unit}  95分位 {p95}{unit}  最大 {max}{unit}（{count} 个）", en: "mean {mean}{unit}  p50 {p50}{unit}  p95 {p95}{unit}  max {max}{unit}  (n={count})";
    /// Peak diversion: heading.
    DivHeading => zh: "高峰分流：{kiosks} 台自助机，种子 {seed}", en: "peak-diversion: {kiosks} kiosks, seed={seed}";
    /// Peak diversion: guided customers.
    DivGuided => zh: "有引导", en: "guided";
    /// Peak diversion: the unguided baseline.
    DivUnguided => zh: "无引导（入口附近随机选）", en: "unguided";
    /// Peak diversion: customers joining the shortest visible queue.
    DivSelfOrganised => zh: "自行排最短队", en: "self-organised";
    /// A site run's sub-heading (a policy, with or without spares).
    DivPolicy => zh: "  {name}：", en: "  {name}:";
    /// Queue length on joining.
    StatQueueLen => zh: "    排队人数：{line}", en: "    queue len:        {line}";
    /// Wait.
    StatWait => zh: "    等待：{line}", en: "    wait:             {line}";
    /// Queue length on joining, rush hour.
    StatRushQueueLen => zh: "    高峰排队人数：{line}", en: "    rush queue len:   {line}";
    /// Wait, rush hour.
    StatRushWait => zh: "    高峰等待：{line}", en: "    rush wait:        {line}";
    /// Peak diversion: people waiting and customers lost.
    DivCustomers => zh: "    平均等待人数 {waiting}；被拒 {turned_away}，放弃 {gave_up}，改道 {rerouted}", en: "    waiting mean {waiting}; turned away {turned_away}, gave up {gave_up}, rerouted {rerouted}";
    /// Peak diversion: improvement over a baseline, percent.
    DivImprovement => zh: "  相对{name}的改善：排队人数 平均 {q_mean}% 95分位 {q_p95}%，等待 平均 {w_mean}% 95分位 {w_p95}%，高峰排队 {rush_q}%，高峰等待 {rush_w}%", en: "  improvement vs {name}: queue len mean {q_mean}% p95 {q_p95}%, wait mean {w_mean}% p95 {w_p95}%, rush queue {rush_q}% rush wait {rush_w}%";
    /// Peak diversion: against the target.
    DivVerdict => zh: "  {verdict} {target}% 的目标；复现：种子 {seed}", en: "  {verdict} the {target}% target; reproduce with seed={seed}";
    /// A target is met.
    Meets => zh: "达到", en: "meets";
    /// A target is missed.
    Misses => zh: "未达到", en: "MISSES";
    /// Below a minimum.
    Below => zh: "低于", en: "BELOW";
    /// No (not dispatched).
    No => zh: "否", en: "no";
    /// Never (not in service).
    Never => zh: "从未", en: "never";
    /// Spare switchover: heading.
    SwHeading => zh: "备机切换：{kiosk} 于 {at} 故障（{kind}），种子 {seed}", en: "spare-switchover: {kiosk} fails ({kind}) at {at}, seed={seed}";
    /// Spare switchover: the failure's ticket.
    SwTicket => zh: "  工单 {id} 开于 {opened}（故障后 {detect} 秒发现），响应于 {responded}，派工 {dispatched}", en: "  ticket {id} opened at {opened} (detected {detect} s after the fault), responded {responded}, dispatched {dispatched}";
    /// Spare switchover: no ticket was opened.
    SwNoTicket => zh: "  未开工单", en: "  NO TICKET OPENED";
    /// Spare switchover: spares against the minimum.
    SwSpares => zh: "  备机：{spares} 台（{verdict}最少 {target} 台的要求）", en: "  spares: {spares} ({verdict} the minimum of {target})";
    /// Spare switchover: the spare brought in.
    SwSpare => zh: "  备机 {spare} 申请于 {requested}，投入服务于 {at}", en: "  spare {spare} requested {requested}, in service {at}";
    /// Spare switchover: the run with spares.
    SwWith => zh: "有备机", en: "with spares";
    /// Spare switchover: the run without spares.
    SwWithout => zh: "无备机", en: "without spares";
    /// Spare switchover: before the failure.
    SwBefore => zh: "故障前", en: "before";
    /// Spare switchover: from the failure on.
    SwAfter => zh: "故障后", en: "after ";
    /// Spare switchover: one window's customers and wait.
    SwWindow => zh: "    {phase}：到达 {arrived} 人，流失 {lost} 人；等待 {line}", en: "    {phase} {arrived} arrived, {lost} lost; wait {line}";
    /// Spare switchover: one window's queue length.
    SwWindowQueue => zh: "           排队人数 {line}", en: "           queue len {line}";
    /// Spare switchover: the improvement after the failure.
    SwImprovement => zh: "  故障后有备机时平均等待缩短 {pct}%；复现：种子 {seed}", en: "  mean wait after the failure {pct}% shorter with spares; reproduce with seed={seed}";
    /// Fault statistics: heading.
    FsHeading => zh: "故障统计：站点 {site}，{days} 天，{hours} 机时，种子 {seed}", en: "fault-statistics: site {site}, {days} days, {hours} kiosk-hours, seed={seed}";
    /// Fault statistics: totals.
    FsTotals => zh: "  共 {total} 次故障：已解决 {resolved} 次（远程 {remote} 次，上门 {dispatched} 次），结束时未结 {open} 次", en: "  {total} faults: {resolved} resolved ({remote} remotely, {dispatched} dispatched on site), {open} open at end";
    /// Fault statistics: fault → response.
    FsResponse => zh: "  响应：{line}", en: "  response: {line}";
    /// Fault statistics: fault → resolved.
    FsRepair => zh: "  修复：{line}", en: "  repair:   {line}";
    /// Fault statistics: within the response target.
    FsWithin => zh: "  在 {target} 秒响应目标内：{n} 次（{pct}%）", en: "  within the {target} s response target: {n} ({pct}%)";
    /// Fault statistics: the causes table follows.
    FsCauses => zh: "  最常见的故障原因：", en: "  most frequent causes:";
    /// Causes table: cause column.
    FsColCause => zh: "原因", en: "CAUSE";
    /// Causes table: count column.
    FsColCount => zh: "次数", en: "COUNT";
    /// Causes table: share column.
    FsColShare => zh: "占比", en: "SHARE";
    /// Causes table: mean response column (seconds).
    FsColResponse => zh: "平均响应(秒)", en: "RESPONSE MEAN S";
    /// Causes table: mean repair column (seconds).
    FsColRepair => zh: "平均修复(秒)", en: "REPAIR MEAN S";
    /// Causes table: repair p95 column (seconds).
    FsColRepairP95 => zh: "修复95分位(秒)", en: "REPAIR P95 S";
    /// Fault statistics: the last line.
    FsFooter => zh: "  备机切换 {switchovers} 次，流失顾客 {lost} 位；摘要 {digest}；复现：种子 {seed}", en: "  {switchovers} spare switchovers, {lost} customers lost; digest {digest}; reproduce with seed={seed}";
    /// Under an explored run's report: what decides its verdict.
    ExploreVerdictNote => zh: "结论：以上为探索器在每一步后的检查；资金一行是演练结束时的核对", en: "verdict: the explorer checks above, after every step; the money line is the drill's end-of-run view";
    /// `explore --shrink`: starting.
    ExploreShrinking => zh: "正在缩减种子 {seed}（检查：{checks}）……", en: "shrinking seed {seed} (checks: {checks})...";
    /// `explore --shrink`: done.
    ExploreShrunk => zh: "已缩减为 {customers} 位顾客、{faults} 个故障、{power} 次断电；重放命令：{command}", en: "shrunk to {customers} customers, {faults} faults, {power} power losses; replay with: {command}";
}

impl Msg {
    /// The text in `lang` with each `{name}` replaced by its value.
    ///
    /// A name the text does not contain is ignored, and a `{name}` with no
    /// value stays as it is (the catalog test checks both languages name
    /// the same values, so this shows up there, not in front of operators).
    pub fn fill(self, lang: Lang, values: &[(&str, &dyn Display)]) -> String {
        // One pass over the text, so a value that itself holds `{name}`
        // (an expectation quoting a pattern) is not filled in again.
        let mut out = String::new();
        let mut rest = self.text(lang);
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (v.to_string(), close))
            });
            match value {
                Some((v, close)) => {
                    out.push_str(&v);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// How many terminal columns `s` takes (a Chinese character takes two).
pub fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// How a table column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: starts at the column's left edge.
    Left,
    /// Numbers, durations and verdicts: end at the column's right edge.
    Right,
}

/// A table as terminal lines: the header, then one line per row (cells are
/// never wrapped, so row `i` is line `i + 1`), columns one space apart and
/// as wide as their widest cell by display width, no borders, no trailing
/// spaces. `align` gives each column's alignment (missing ones: left).
pub fn table_lines(header: &[&str], rows: &[Vec<String>], align: &[Align]) -> Vec<String> {
    let mut table = Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for row in rows {
        debug_assert_eq!(row.len(), header.len(), "a row's cells match the header");
        table.add_row(row.clone());
    }
    for i in 0..header.len() {
        if let Some(column) = table.column_mut(i) {
            column.set_padding((0, 1));
            column.set_cell_alignment(match align.get(i) {
                Some(Align::Right) => CellAlignment::Right,
                _ => CellAlignment::Left,
            });
        }
    }
    table
        .lines()
        .map(|line| line.trim_end().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `{name}`s a text uses.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_message_has_both_languages_with_the_same_values() {
        for &m in Msg::ALL {
            let (zh, en) = (m.text(Lang::Zh), m.text(Lang::En));
            assert!(!zh.trim().is_empty(), "{m:?} has no Chinese text");
            assert!(!en.trim().is_empty(), "{m:?} has no English text");
            assert_eq!(
                placeholders(zh),
                placeholders(en),
                "{m:?}: the two texts name different values"
            );
        }
    }

    #[test]
    fn marks_line_up_in_both_languages() {
        for m in [Msg::MarkOk, Msg::MarkFail, Msg::MarkNa] {
            assert_eq!(display_width(m.text(Lang::Zh)), 4, "{m:?}");
            assert_eq!(display_width(m.text(Lang::En)), 4, "{m:?}");
        }
    }

    #[test]
    fn fill_puts_values_where_each_language_names_them() {
        let seed: &dyn Display = &7;
        let command: &dyn Display = &"kiosk-sim drill x --seed 7";
        let values = [("seed", seed), ("command", command)];
        assert_eq!(
            Msg::FailedWithSeed.fill(Lang::En, &values),
            "    failed with seed 7: reproduce with `kiosk-sim drill x --seed 7`"
        );
        assert_eq!(
            Msg::FailedWithSeed.fill(Lang::Zh, &values),
            "    种子 7 失败：复现命令 `kiosk-sim drill x --seed 7`"
        );
    }

    /// The display column where each cell of `line` starts and ends, given
    /// the cells in order (each found after the previous one).
    fn spans(line: &str, cells: &[&str]) -> Vec<(usize, usize)> {
        let mut from = 0;
        cells
            .iter()
            .map(|cell| {
                let at = from
                    + line[from..]
                        .find(cell)
                        .unwrap_or_else(|| panic!("{cell} in {line}"));
                from = at + cell.len();
                let start = display_width(&line[..at]);
                (start, start + display_width(cell))
            })
            .collect()
    }

    #[test]
    fn tables_with_chinese_line_up_by_display_column() {
        let header = ["演练", "结果", "发现用时", "资金平衡"];
        let rows: Vec<Vec<String>> = [
            ["bill-jam", "通过", "1s 200ms", "成立"],
            ["高峰分流", "19/20", "-", "不适用"],
            ["printer-paper-out", "pass", "32m 56s", "holds"],
        ]
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
        let align = [Align::Left, Align::Right, Align::Right, Align::Right];
        let lines = table_lines(&header, &rows, &align);
        assert_eq!(lines.len(), 1 + rows.len(), "{lines:#?}");
        let mut all: Vec<Vec<(usize, usize)>> = vec![spans(&lines[0], &header)];
        for (line, row) in lines[1..].iter().zip(&rows) {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            all.push(spans(line, &cells));
        }
        let table = lines.join("\n");
        for (c, a) in align.iter().enumerate() {
            let edges: Vec<usize> = all
                .iter()
                .map(|s| if *a == Align::Left { s[c].0 } else { s[c].1 })
                .collect();
            assert!(
                edges.windows(2).all(|w| w[0] == w[1]),
                "column {c} ({a:?}) edges {edges:?}:\n{table}"
            );
        }
        // Every column starts at the same display column in every row:
        // the first at 0, each next one after the widest cell before it.
        assert_eq!(all[0][0].0, 0);
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{table}");
        assert_eq!(
            lines.iter().map(|l| display_width(l)).collect::<Vec<_>>(),
            vec![display_width(&lines[0]); lines.len()],
            "right-aligned last column: every line as wide:\n{table}"
        );
    }

    #[test]
    fn language_tags_name_a_language() {
        assert_eq!(Lang::from_tag("en"), Some(Lang::En));
        assert_eq!(Lang::from_tag("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_tag("zh-Hans"), Some(Lang::Zh));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::default(), Lang::Zh);
    }
}
