/* demo_words_dossier.h - the vocabulary of demo dossiers: titles, schools,
 * degrees, hobbies, families, products, what people say in calls and
 * feedback. Static tables for demo_dossier.c alone (included there once,
 * after demo_int.h).
 */
#ifndef DG_DEMO_WORDS_DOSSIER_H
#define DG_DEMO_WORDS_DOSSIER_H

static const char *const titles_main[] = {"采购经理",   "采购主管",   "行政经理",  "项目经理",
                                          "市场部经理", "办公室主任", "供应链经理"};
static const char *const titles_key[] = {"总经理",   "副总经理", "技术总监",
                                         "财务总监", "运营总监", "营销总监"};
static const char *const titles_legal[] = {"董事长", "执行董事", "董事长兼总经理"};
static const char *const titles_other[] = {"工程师",     "采购专员", "财务主管",
                                           "总经理助理", "仓库主管", "质量经理"};
static const char *const schools[] = {"清华大学",     "北京大学", "浙江大学", "复旦大学",
                                      "上海交通大学", "南京大学", "武汉大学", "中山大学",
                                      "华中科技大学", "四川大学", "厦门大学", "同济大学"};
static const char *const degrees[] = {"工商管理硕士", "机械工程学士", "计算机科学学士",
                                      "会计学学士",   "市场营销学士", "经济学硕士"};
static const char *const hobbies[] = {"高尔夫", "羽毛球", "钓鱼", "书法", "茶道", "登山",
                                      "摄影",   "跑步",   "篮球", "旅行", "读书", "围棋",
                                      "足球",   "游泳",   "收藏", "红酒"};
static const char *const families[] = {"已婚，育有一子", "已婚，育有一女",     "已婚，两个孩子",
                                       "未婚",           "已婚，孩子在读大学", "与父母同住"};
static const char *const contact_notes[] = {"喜欢直接电话沟通", "上午开会多，下午联系为宜",
                                            "决策人之一",       "重视技术细节",
                                            "习惯微信沟通",     "对价格敏感"};

/* What "we" sell: the objects of deals and conversations, with the unit
 * they are counted in and the kind of contract they are sold under. */
static const struct product {
    const char *name, *unit, *contract;
} products[] = {
    {"工业传感器", "只", "产品采购合同"},         {"PLC控制模块", "套", "产品采购合同"},
    {"伺服电机", "台", "产品采购合同"},           {"ERP软件", "套", "软件许可及实施合同"},
    {"云服务套餐", "年", "年度服务协议"},         {"包装材料", "吨", "原材料供货合同"},
    {"检测设备", "台", "产品采购合同"},           {"办公家具", "套", "产品采购合同"},
    {"安防监控系统", "套", "设备安装及维保合同"}, {"润滑油", "桶", "原材料供货合同"},
    {"不锈钢管材", "吨", "原材料供货合同"},       {"LED照明", "批", "产品采购合同"},
    {"打印耗材", "箱", "备品备件采购合同"},       {"企业培训课程", "期", "年度服务协议"},
};

static const char *const sum_phone[] = {"电话沟通报价",       "电话回访使用情况",
                                        "电话确认交货时间",   "电话跟进付款进度",
                                        "电话了解新项目需求", "电话邀约参加展会"};
static const char *const sum_email[] = {"邮件发送报价单", "邮件发送产品资料", "邮件确认合同条款",
                                        "邮件回复技术问题", "邮件发送对账单"};
static const char *const sum_meeting[] = {"会议讨论年度合作框架", "线上会议演示新产品",
                                          "参加客户招标答疑会", "项目启动会"};
static const char *const sum_visit[] = {"上门拜访采购部", "拜访客户高层", "陪同技术人员现场调试",
                                        "上门收集需求", "节日走访"};
static const char *const sum_im[] = {"微信沟通样品寄送", "微信确认订单细节", "企业微信答复售后问题",
                                     "微信发送促销信息"};
static const char *const places[] = {"客户公司会议室", "我司展厅", "线上（腾讯会议）",
                                     "客户生产车间", "国际会展中心"};

static const char *const task_titles[] = {"电话回访",     "准备报价单",  "安排拜访",
                                          "催收货款",     "寄送样品",    "续签年度协议",
                                          "发送节日祝福", "提交技术方案"};

/* Feedback by kind: what the customer said and, once handled, what we did. */
struct said {
    const char *text, *resolution;
};
static const struct said fb_complaint[] = {
    {"交货延迟，影响了客户的生产计划。", "已协调加急发货，并承担本次运费。"},
    {"部分产品包装破损，要求补发。", "已补发货物并致歉。"},
    {"售后响应太慢，工程师两天后才到现场。", "已安排专人对接，承诺24小时内到场。"},
    {"发票开具错误，需重新开具。", "已重新开具发票。"},
    {"报价前后不一致，客户不满。", "已由销售经理电话说明并按首次报价执行。"},
};
static const struct said fb_suggestion[] = {
    {"希望提供线上订单查询功能。", "已纳入系统改进计划。"},
    {"建议增加季度对账。", "已与客户约定每季度末对账。"},
    {"希望提供更详细的使用培训。", "已安排工程师上门培训。"},
    {"建议缩短交货周期。", "已对常用型号建立安全库存。"},
};
static const struct said fb_praise[] = {
    {"技术支持响应及时，问题当天解决。", ""},
    {"产品质量稳定，客户很满意。", ""},
    {"销售经理服务热情专业。", ""},
};
static const struct said fb_survey[] = {
    {"年度满意度调查：总体满意，价格方面有改进空间。", ""},
    {"季度回访问卷：对售后服务评分较高。", ""},
    {"满意度调查：希望加强新产品介绍。", ""},
};

#endif
